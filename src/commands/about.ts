// Meltano reads `--about --format json` to learn a plugin's settings and capabilities.
import packageJson from '../../package.json' with { type: 'json' };
import { configSchema } from '../config/spec.js';
import type { CommandContext } from './context.js';

export function aboutInfo() {
  return {
    name: packageJson.name,
    description: packageJson.description,
    version: packageJson.version,
    // batch: Singer BATCH messages whose manifests list file:// JSONL files (gzip or not).
    capabilities: ['about', 'activate-version', 'batch'],
    settings: configSchema,
  };
}

export async function aboutCommand(context: CommandContext, format: string): Promise<void> {
  const about = aboutInfo();
  if (format === 'json') {
    await context.lines.writeJson(about);
    return;
  }
  const settings = Object.keys((about.settings as { properties: object }).properties);
  context.deps.stdout.write(`${about.name} ${about.version}\n${about.description}\n\nCapabilities: ${about.capabilities.join(', ')}\nSettings: ${settings.join(', ')}\n`);
}

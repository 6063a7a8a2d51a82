// Parses argv and runs one command. Nothing else lives here.
import yargs, { type Argv } from 'yargs';
import { commandContext, type CliDeps, type CommandContext } from './commands/context.js';
import { asConnectorError, EXIT_FAILED, failureTypeOf } from './errors.js';
import type { InputFormat } from './protocol/input.js';

export const EXIT_USAGE = 2;
// Each command's module loads when it runs: `spec` must not pay for the write path's modules.
const load = {
  about: () => import('./commands/about.js'),
  check: () => import('./commands/check.js'),
  discover: () => import('./commands/discover.js'),
  spec: () => import('./commands/spec.js'),
  write: () => import('./commands/write.js'),
};
const INPUT_FORMATS: InputFormat[] = ['auto', 'airbyte', 'singer', 'jsonl'];

export async function runCli(argv: string[], deps: CliDeps): Promise<void> {
  const context = commandContext(deps);
  const withConfig = (y: Argv) => y.option('config', { type: 'string', demandOption: true, describe: 'config file (JSON, see spec.json)' });
  const withInput = (y: Argv) => y
    .option('input-format', { choices: INPUT_FORMATS, default: 'auto' as InputFormat, describe: 'how stdin is read; auto detects per line' })
    .option('dry-run', { type: 'boolean', default: false, describe: 'plan and report; write nothing to the CRM or the state store' })
    .option('full-resync', { type: 'boolean', default: false, describe: 'send every row as if the state store were empty' })
    .option('complete', { type: 'boolean', default: false, describe: 'the input is the whole segment: keys absent from it have left (see on_removal)' })
    .option('report', { type: 'string', describe: 'write the run report as JSON to this file' })
    .option('progress-every', { type: 'number', default: 5, describe: 'seconds between progress reports (a LOG message, or a line on stderr)' });
  const runOptions = (a: Record<string, unknown>) => ({
    inputFormat: a['input-format'] as InputFormat, dryRun: a['dry-run'] as boolean, fullResync: a['full-resync'] as boolean,
    complete: a.complete as boolean, report: a.report as string | undefined, progressEveryMs: Math.max(100, (a['progress-every'] as number) * 1000),
  });

  await yargs(argv)
    .scriptName('crm-activate')
    .usage('$0 <command> [options]\n\nWrites warehouse rows into HubSpot or Salesforce custom objects.')
    .command('spec', 'print the Airbyte SPEC', (y) => y, () => guarded(context, async () => (await load.spec()).specCommand(context)))
    .command('check', 'check the config, credentials and mappings', withConfig, (a) => guarded(context, async () => (await load.check()).checkCommand(context, a.config)))
    .command('discover', 'print the writable objects as a DESTINATION_CATALOG', withConfig, (a) => guarded(context, async () => (await load.discover()).discoverCommand(context, a.config)))
    .command('write', 'read records on stdin and write them to the CRM (Airbyte)',
      (y) => withInput(withConfig(y)).option('catalog', { type: 'string', describe: 'configured Airbyte catalog' }),
      async (a) => (await load.write()).writeCommand(context, { config: a.config as string, catalog: a.catalog, output: 'airbyte', ...runOptions(a) }))
    .command('$0', 'with --config: run as a Singer target; with --about: describe the plugin for Meltano',
      (y) => withInput(y)
        .option('config', { type: 'string', describe: 'config file: run as a Singer target' })
        .option('about', { type: 'boolean', describe: 'print what Meltano needs to know' })
        .option('format', { choices: ['json', 'markdown', 'text'], default: 'text', describe: 'format of --about' }),
      async (a) => {
        if (a.about) return guarded(context, async () => (await load.about()).aboutCommand(context, a.format));
        if (a.config) return (await load.write()).writeCommand(context, { config: a.config, output: 'singer', ...runOptions(a) });
        context.log.error('give a command (spec, check, discover, write), --config to run as a Singer target, or --about; see --help');
        process.exitCode = EXIT_USAGE;
      })
    .strict()
    .exitProcess(false)
    .fail((message, error) => {
      context.log.error(message ?? error?.message ?? 'invalid usage');
      process.exitCode = EXIT_USAGE;
    })
    .help()
    .version()
    .parseAsync();
}

/** Commands other than write report unexpected failures the Airbyte way, then exit non-zero. */
async function guarded(context: CommandContext, run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (error) {
    const failure = asConnectorError(error);
    const message = context.log.redactor.redact(failure.message);
    context.log.error(message);
    await context.airbyte.errorTrace(message, failureTypeOf(failure.category));
    process.exitCode = EXIT_FAILED;
  }
}

// What both emulators' commands share: read the options (a usage error exits 2), start the server,
// print {"url": "..."} as one JSON line on stdout once listening, run until SIGTERM or SIGINT.
interface Running {
  url: string;
  close(): Promise<void>;
}

export async function serveFromCommandLine<Options>(name: string, usage: string, readOptions: (argv: string[]) => Options,
  start: (options: Options) => Promise<Running>, describe: (options: Options) => string): Promise<void> {
  let options: Options;
  try {
    options = readOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${usage}\n`);
    process.exit(2);
  }
  const emulator = await start(options);
  process.stdout.write(`${JSON.stringify({ url: emulator.url })}\n`);
  process.stderr.write(`${name} emulator listening on ${emulator.url} (${describe(options)}); Ctrl-C stops it\n`);
  const stop = () => {
    process.stderr.write(`${name} emulator stopping\n`);
    emulator.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

/** A numeric option, or undefined when absent. */
export function optionalNumber(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value)) throw new Error(`not a number: ${text}`);
  return value;
}

/** Drops absent options, so the emulator's own defaults apply. */
export function definedOnly<T extends object>(options: T): T {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as T;
}

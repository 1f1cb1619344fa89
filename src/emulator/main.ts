import { runEmulatorCli } from './cli.ts';

// `node src/emulator/main.ts [flags]`: the emulator as its own process (see docs/emulator.md).
runEmulatorCli(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});

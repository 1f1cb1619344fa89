import { resolve } from 'node:path';
import { runSandbox } from './sandbox.ts';

// `npm run sandbox [-- --once]`: the offline sandbox, development tooling with its own entry point
// (the product binary, src/main.ts, has no sandbox subcommand and imports nothing from devenv/).

const USAGE = `usage: npm run sandbox [-- --once]

The offline sandbox: local Kubernetes + cloud emulator + the operator, the samples applied and
the ACK RRSA demo walked end to end.

  --once   exit after the walkthrough instead of waiting for Ctrl-C
`;

async function main(argv: string[]): Promise<number> {
  if (argv.some((a) => a === 'help' || a === '--help' || a === '-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  const unknown = argv.filter((a) => a !== '--once');
  if (unknown.length > 0) {
    process.stderr.write(`sandbox: unknown flag: ${unknown.join(' ')}\n\n${USAGE}`);
    return 2;
  }
  return runSandbox({
    once: argv.includes('--once'),
    repoRoot: resolve(process.env.RRSA_REPO_ROOT ?? process.cwd()),
    print: (line) => process.stdout.write(`${line}\n`),
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`sandbox: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);

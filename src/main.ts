import { DOCTOR_USAGE, runDoctor } from './doctor/command.ts';
import { runManager } from './manager/command.ts';

const USAGE = `usage: rrsa-operator <command> [flags]

commands:
  manager [flags]    run the operator (manager --help lists every flag)
  doctor ...         explain why a pod has or lacks RRSA credentials (doctor --help)
  help               show this message
`;

/** The one binary: subcommands share the process wiring. */
async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'manager':
      return runManager(rest);
    case 'doctor':
      if (rest.includes('--help')) {
        process.stdout.write(`${DOCTOR_USAGE}\n`);
        return 0;
      }
      return runDoctor(rest, (text) => process.stdout.write(`${text}\n`));
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return 0;
    default:
      return usageError(`unknown command: ${command}`);
  }
}

function usageError(message: string): number {
  process.stderr.write(`rrsa-operator: ${message}\n\n${USAGE}`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(
      `rrsa-operator: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exitCode = 1;
  },
);

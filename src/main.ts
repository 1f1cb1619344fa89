const USAGE = `usage: rrsa-operator <command> [flags]

commands:
  manager [flags]    run the operator (manager --help lists every flag)
  doctor ...         explain why a pod has or lacks RRSA credentials (doctor --help)
  help               show this message
`;

/**
 * The one binary: subcommands share the process wiring. Each subcommand's modules are imported
 * only when it runs, so the manager never loads the doctor and `help` loads neither (ADR 0016).
 */
async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'manager': {
      const { runManager } = await import('./manager/command.ts');
      return runManager(rest);
    }
    case 'doctor': {
      const { DOCTOR_USAGE, runDoctor } = await import('./doctor/command.ts');
      if (rest.includes('--help')) {
        process.stdout.write(`${DOCTOR_USAGE}\n`);
        return 0;
      }
      return runDoctor(rest, (text) => process.stdout.write(`${text}\n`));
    }
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

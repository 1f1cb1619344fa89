import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The node flags the image starts the product with (`ENTRYPOINT ["node", ...flags,
 * "dist/main.js"]`), so a benchmark runs the manager or the webhook as deployed.
 */
export function imageNodeFlags(): string[] {
  const dockerfile = readFileSync(join(import.meta.dirname, '..', '..', 'Dockerfile'), 'utf8');
  const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)?.[1];
  const argv = entrypoint ? (JSON.parse(entrypoint) as string[]) : [];
  const script = argv.indexOf('dist/main.js');
  if (argv[0] !== 'node' || script < 0) {
    throw new Error('Dockerfile: expected ENTRYPOINT ["node", ...flags, "dist/main.js"]');
  }
  return argv.slice(1, script);
}

/** `--node-args S` (space-separated; '' for none), else the image's flags. */
export function nodeArgsFrom(value: string | undefined): string[] {
  return (value ?? imageNodeFlags().join(' ')).split(' ').filter(Boolean);
}

/**
 * The environment the image's final stage sets (`ENV NAME=value` lines after the last FROM), for
 * the settings that change how the process behaves, such as MALLOC_ARENA_MAX.
 */
export function imageEnv(): Record<string, string> {
  const dockerfile = readFileSync(join(import.meta.dirname, '..', '..', 'Dockerfile'), 'utf8');
  const finalStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
  const env: Record<string, string> = {};
  for (const m of finalStage.matchAll(/^ENV ([A-Z_][A-Z0-9_]*)=(\S+)$/gm)) env[m[1]!] = m[2]!;
  return env;
}

import { readFileSync } from 'node:fs';
import { ConfigError, loadConfig, renderHelp } from '../config/load.ts';
import { createLogger } from '../runtime/logger.ts';
import { startManager, toManagerConfig } from './manager.ts';

export const MANAGER_USAGE = `usage: rrsa-operator manager [flags]
Runs the PodIdentityBinding controller (on the leader) with health and metrics servers.

flags (each also an environment variable):
${renderHelp()}`;

/**
 * `rrsa-operator manager`: exits 2 on a bad flag (with every problem listed), 1 when start-up
 * fails or leadership is lost (the Deployment restarts it), 0 after SIGTERM/SIGINT once
 * in-flight reconciles have finished and the Lease is released.
 */
export async function runManager(argv: readonly string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(MANAGER_USAGE);
    return 0;
  }
  let config;
  try {
    config = toManagerConfig(
      loadConfig({ argv, env: process.env, readFile: (path) => readFileSync(path, 'utf8') }),
    );
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`rrsa-operator manager: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const logger = createLogger(config.logLevel);
  let exitCode = 0;
  let shuttingDown = false;
  let wake: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => (wake = resolve));
  const manager = await startManager(config, {
    logger,
    onLostLeadership: () => {
      if (shuttingDown) return; // releasing the Lease on shutdown is not losing it
      exitCode = 1;
      wake();
    },
  });
  const onSignal = (signal: string) => () => {
    logger.info('shutting down', { signal });
    wake();
  };
  process.once('SIGTERM', onSignal('SIGTERM'));
  process.once('SIGINT', onSignal('SIGINT'));
  await stopped;
  shuttingDown = true;
  // A second signal, or a shutdown that hangs, must not keep the pod around past its grace period.
  const deadline = setTimeout(() => process.exit(exitCode || 1), 25_000);
  deadline.unref();
  await manager.stop();
  return exitCode;
}

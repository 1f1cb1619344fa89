import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';

/** A child process whose output goes to a log file, stopped politely and then firmly. */
export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  readonly exited: Promise<number | string>;
  isRunning(): boolean;
  stop(graceMs?: number): Promise<void>;
}

export function startProcess(
  name: string,
  command: string,
  args: string[],
  logFile: string,
  env: NodeJS.ProcessEnv = process.env,
): ManagedProcess {
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(command, args, { stdio: ['ignore', fd, fd], env });
  } finally {
    closeSync(fd);
  }
  if (child.pid === undefined) throw new Error(`${name}: could not start ${command}`);
  let running = true;
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => {
      running = false;
      resolve(code ?? signal ?? 'unknown');
    });
    child.once('error', () => {
      running = false;
      resolve('spawn-error');
    });
  });
  return {
    name,
    pid: child.pid,
    logFile,
    exited,
    isRunning: () => running,
    async stop(graceMs = 5000): Promise<void> {
      if (!running) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * Starts a detached shell that waits for `parentPid` to die and then kills `pids` and removes
 * `dir`. It is what keeps a SIGKILLed test runner from leaking etcd and kube-apiserver.
 * Returns a function that cancels the watchdog after a normal teardown.
 */
export function startOrphanReaper(
  parentPid: number,
  pids: () => number[],
  dir: string,
): {
  update(): void;
  cancel(): void;
} {
  let reaper: ChildProcess | undefined;
  const launch = (): void => {
    reaper?.kill('SIGKILL');
    const script = `while kill -0 ${parentPid} 2>/dev/null; do sleep 1; done; kill -9 ${pids().join(' ')} 2>/dev/null; rm -rf '${dir.replace(/'/g, '')}'`;
    reaper = spawn('bash', ['-c', script], { detached: true, stdio: 'ignore' });
    reaper.unref();
  };
  launch();
  return {
    update: launch,
    cancel: () => reaper?.kill('SIGKILL'),
  };
}

import { execFile } from 'node:child_process';

export interface KubectlResult {
  stdout: string;
  stderr: string;
}

/**
 * The kubectl binary: $RRSA_KUBECTL (the version-matched one hack/controlplane/build.sh builds,
 * set by the control-plane starter) or whatever `kubectl` is on PATH.
 */
export function kubectlPath(): string {
  return process.env.RRSA_KUBECTL ?? 'kubectl';
}

/** Runs the real `kubectl` against a kubeconfig; rejects with kubectl's own stderr. */
export async function kubectl(
  kubeconfigPath: string,
  args: string[],
  options: { input?: string; timeoutMs?: number } = {},
): Promise<KubectlResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      kubectlPath(),
      ['--kubeconfig', kubeconfigPath, ...args],
      { timeout: options.timeoutMs ?? 60_000, maxBuffer: 32 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) {
          reject(new Error(`kubectl ${args.join(' ')} failed: ${stderr.trim() || error.message}`));
        } else {
          resolve({ stdout, stderr });
        }
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** Applies every CRD under `crdDir` (server-side) and waits until each is Established. */
export async function installCrds(kubeconfigPath: string, crdDir: string): Promise<void> {
  await kubectl(kubeconfigPath, ['apply', '--server-side', '--force-conflicts', '-f', crdDir]);
  await kubectl(kubeconfigPath, [
    'wait',
    '--for=condition=Established',
    '--timeout=60s',
    '-f',
    crdDir,
  ]);
}

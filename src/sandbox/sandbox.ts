import { join } from 'node:path';
import { startControlPlane, type ControlPlane } from '../devenv/controlplane.ts';
import { installCrds, kubectl } from '../devenv/kubectl.ts';

export interface SandboxOptions {
  /** Exit after the walkthrough instead of waiting for Ctrl-C. */
  once: boolean;
  repoRoot: string;
  print: (line: string) => void;
}

/**
 * The offline sandbox: a real local control plane with the operator's CRDs installed, ready for
 * kubectl. (Later steps add the cloud emulator, the manager and the ACK demo walkthrough.)
 */
export async function runSandbox(options: SandboxOptions): Promise<void> {
  const { print } = options;
  const started = Date.now();
  print('starting the local control plane (etcd + kube-apiserver + kube-controller-manager)...');
  const controlPlane = await startControlPlane({
    controllerManager: true,
    repoRoot: options.repoRoot,
  });
  process.env.RRSA_KUBECTL = controlPlane.kubectl;
  try {
    print(`control plane up at ${controlPlane.server} in ${Date.now() - started} ms`);
    await installCrds(controlPlane.kubeconfigPath, join(options.repoRoot, 'crds'));
    const crds = await kubectl(controlPlane.kubeconfigPath, ['get', 'crd', '-o', 'name']);
    print(`installed CRDs: ${crds.stdout.trim().split('\n').join(', ')}`);
    printExplore(controlPlane, print);
    if (!options.once) await waitForInterrupt(print);
  } finally {
    await controlPlane.stop();
    print('sandbox stopped; nothing left running');
  }
}

function printExplore(controlPlane: ControlPlane, print: (line: string) => void): void {
  print('');
  print('explore with:');
  print(`  export KUBECONFIG=${controlPlane.kubeconfigPath}`);
  print(`  ${controlPlane.kubectl} get podidentitybindings -A`);
}

async function waitForInterrupt(print: (line: string) => void): Promise<void> {
  print('running until Ctrl-C');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
}

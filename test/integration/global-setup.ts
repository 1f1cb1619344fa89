import { existsSync } from 'node:fs';
import { startControlPlane, type ControlPlane } from '../../devenv/controlplane.ts';
import { installCrds } from '../../devenv/kubectl.ts';
import { CONTROL_PLANE_ENV } from '../support/cluster.ts';

declare global {
  var rrsaControlPlane: ControlPlane | undefined;
}

/**
 * One control plane per test run, shared by every integration test file (each file works in
 * namespaces of its own). Starting one per file would cost ~10 s of a 2-core machine each.
 */
export default async function globalSetup(): Promise<void> {
  const started = Date.now();
  const controlPlane = await startControlPlane({ controllerManager: true });
  globalThis.rrsaControlPlane = controlPlane;
  process.env[CONTROL_PLANE_ENV] = JSON.stringify(controlPlane.info());
  process.env.RRSA_KUBECTL = controlPlane.kubectl;
  // crds/ may not exist yet on a branch that has no CRD; nothing to install then.
  if (existsSync('crds')) await installCrds(controlPlane.kubeconfigPath, 'crds');
  process.stderr.write(
    `\ncontrol plane up in ${Date.now() - started} ms at ${controlPlane.server}\n`,
  );
}

import { randomBytes } from 'node:crypto';
import {
  start as startEmulator,
  type RunningEmulator,
} from '@rrsa-operator/alibaba-cloud-emulator';
import { createClusterOidcProvider } from '../../devenv/cloud-setup.ts';
import type { ControlPlaneInfo } from '../../devenv/controlplane.ts';
import { kubectl } from '../../devenv/kubectl.ts';

export const CONTROL_PLANE_ENV = 'RRSA_TEST_CONTROL_PLANE';

/** The shared control plane started by test/integration/global-setup.ts. */
export function testControlPlane(): ControlPlaneInfo {
  const raw = process.env[CONTROL_PLANE_ENV];
  if (!raw)
    throw new Error(`${CONTROL_PLANE_ENV} is not set: run through the jest integration project`);
  return JSON.parse(raw) as ControlPlaneInfo;
}

/** A fresh namespace name, so test files sharing the control plane never collide. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(3).toString('hex')}`;
}

export async function createNamespace(
  cp: ControlPlaneInfo,
  prefix: string,
  labels: Record<string, string> = {},
): Promise<string> {
  const name = uniqueName(prefix);
  const labelArgs = Object.entries(labels).map(([k, v]) => `${k}=${v}`);
  await kubectl(cp.kubeconfigPath, ['create', 'namespace', name]);
  if (labelArgs.length > 0)
    await kubectl(cp.kubeconfigPath, ['label', 'namespace', name, ...labelArgs]);
  return name;
}

/**
 * The emulator with RRSA enabled for `clusterId` on the test control plane: the cluster's OIDC
 * provider (what ACK creates) exists in its account, trusting the control plane's issuer.
 */
export async function startRrsaEmulator(
  cp: ControlPlaneInfo,
  clusterId: string,
): Promise<RunningEmulator> {
  const emulator = await startEmulator({ seed: clusterId });
  await createClusterOidcProvider({
    endpoint: emulator.endpoint,
    credentials: emulator.rootKey,
    clusterId,
    issuerUrl: cp.issuer,
    issuerCaPem: cp.caPem,
  });
  return emulator;
}

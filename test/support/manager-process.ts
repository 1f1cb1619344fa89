import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { findFreePort } from '../../devenv/ports.ts';
import type { RunningEmulator as Emulator } from '@rrsa-operator/alibaba-cloud-emulator';
import { testControlPlane } from './cluster.ts';

export interface ManagerProcess {
  child: ChildProcess;
  output: () => string;
  healthPort: number;
  exited: Promise<number | null>;
}

/** `rrsa-operator manager` as a child process, against the shared apiserver and an emulator. */
export async function spawnManager(input: {
  emulator: Emulator;
  clusterId: string;
  leaseNamespace: string;
  env?: Record<string, string>;
}): Promise<ManagerProcess> {
  const cp = testControlPlane();
  const healthPort = await findFreePort();
  const metricsPort = await findFreePort();
  const { emulator } = input;
  const child = spawn(
    join(process.cwd(), 'node_modules', '.bin', 'node'),
    [
      'src/main.ts',
      'manager',
      `--kubeconfig=${cp.kubeconfigPath}`,
      `--health-port=${healthPort}`,
      `--metrics-port=${metricsPort}`,
    ],
    {
      env: {
        ...process.env,
        RRSA_CLUSTER_ID: input.clusterId,
        RRSA_NAMESPACE: input.leaseNamespace,
        RRSA_RAM_ENDPOINT: emulator.endpoint,
        RRSA_STS_ENDPOINT: emulator.endpoint,
        RRSA_IMS_ENDPOINT: emulator.endpoint,
        RRSA_ENDPOINT_PROTOCOL: 'http',
        RRSA_LEASE_DURATION: '3s',
        RRSA_RESYNC: '30s',
        RRSA_LOG_LEVEL: 'info',
        // Controller-focused replicas; the webhook has its own suites (and a fixed port).
        RRSA_WEBHOOK: 'false',
        // Only this test's bindings (other test files run their own operators in parallel).
        RRSA_BINDING_SELECTOR: `rrsa.dev/test-env=${input.clusterId}`,
        ALIBABA_CLOUD_ACCESS_KEY_ID: emulator.rootKey.accessKeyId,
        ALIBABA_CLOUD_ACCESS_KEY_SECRET: emulator.rootKey.accessKeySecret,
        ...input.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  return { child, output: () => output, healthPort, exited };
}

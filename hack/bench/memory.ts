// Memory at scale (prints figures; not a test): the manager's RSS with S ServiceAccounts and B
// bindings in its caches.  node hack/bench/memory.ts [--service-accounts 10000] [--bindings 5000]
// Bindings ask for a denied policy, so each is reconciled (status written) without RAM calls:
// this measures the caches and the reconcile path, not the cloud.
// --node-options '--max-old-space-size=256' runs the manager as a container memory limit would
// (Node sizes its heap from the cgroup limit; on a 24 GiB host it lets garbage pile up).
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startControlPlane } from '../../devenv/controlplane.ts';
import { kubectl } from '../../devenv/kubectl.ts';
import { findFreePort } from '../../devenv/ports.ts';
import { start as startEmulator } from '@rrsa-operator/alibaba-cloud-emulator';
import { createClusterOidcProvider } from '../../devenv/cloud-setup.ts';
import { createKubeClients, loadKubeConfig, withApiRetry } from '../../src/kube/client.ts';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2)
  args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1] ?? '');
const serviceAccounts = Number(args.get('service-accounts') ?? 10_000);
const bindings = Number(args.get('bindings') ?? 5_000);
const nodeOptions = args.get('node-options') ?? '';
const namespaces = 10;
const root = join(import.meta.dirname, '..', '..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (line: string) => process.stdout.write(`${line}\n`);

const cp = await startControlPlane({ repoRoot: root });
process.env.RRSA_KUBECTL = cp.kubectl;
const emulator = await startEmulator({ seed: 'memory' });
await createClusterOidcProvider({
  endpoint: emulator.endpoint,
  credentials: emulator.rootKey,
  clusterId: 'mem',
  issuerUrl: cp.issuer,
  issuerCaPem: cp.caPem,
});
await kubectl(cp.kubeconfigPath, ['apply', '-f', join(root, 'crds')]);
await kubectl(cp.kubeconfigPath, ['wait', '--for=condition=Established', '-f', join(root, 'crds')]);
await kubectl(cp.kubeconfigPath, ['create', 'namespace', 'rrsa-system']);
const kube = createKubeClients(loadKubeConfig(cp.kubeconfigPath));
for (let n = 0; n < namespaces; n++)
  await kubectl(cp.kubeconfigPath, ['create', 'namespace', `mem-${n}`]);

async function inParallel(
  count: number,
  limit: number,
  fn: (i: number) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < count) await fn(next++);
    }),
  );
}

const started = Date.now();
await inParallel(serviceAccounts, 32, (i) =>
  withApiRetry(() =>
    kube.core.createNamespacedServiceAccount({
      namespace: `mem-${i % namespaces}`,
      body: { metadata: { name: `sa-${i}`, annotations: { team: `t${i % 97}` } } },
    }),
  ),
);
await inParallel(bindings, 32, (i) =>
  withApiRetry(() =>
    kube.custom.createNamespacedCustomObject({
      group: 'rrsa.dev',
      version: 'v1alpha1',
      plural: 'podidentitybindings',
      namespace: `mem-${i % namespaces}`,
      body: {
        apiVersion: 'rrsa.dev/v1alpha1',
        kind: 'PodIdentityBinding',
        metadata: { name: `b-${i}` },
        spec: {
          serviceAccountName: `sa-${i}`,
          role: { policies: [{ type: 'System', name: 'AdministratorAccess' }] },
        },
      },
    }),
  ),
);
log(
  `created ${serviceAccounts} ServiceAccounts and ${bindings} bindings in ${Date.now() - started} ms`,
);

// What the image runs: compiled JavaScript (running src/*.ts would add Node's type-stripping
// WebAssembly memory, which no deployment carries).
const dist = join(root, '.cache', 'bench-memory', 'dist');
execFileSync(
  join(root, 'node_modules', '.bin', 'node'),
  [
    join(root, 'node_modules', 'typescript', 'bin', 'tsc'),
    '-p',
    'tsconfig.build.json',
    '--outDir',
    dist,
  ],
  { cwd: root, stdio: 'inherit' },
);
const port = await findFreePort();
const manager = spawn(
  join(root, 'node_modules', '.bin', 'node'),
  [
    join(dist, 'main.js'),
    'manager',
    `--kubeconfig=${cp.kubeconfigPath}`,
    `--health-port=${port}`,
    `--metrics-port=${port}`,
    `--webhook-port=${await findFreePort()}`,
  ],
  {
    cwd: root,
    env: {
      ...process.env,
      RRSA_CLUSTER_ID: 'mem',
      RRSA_RAM_ENDPOINT: emulator.endpoint,
      RRSA_STS_ENDPOINT: emulator.endpoint,
      RRSA_IMS_ENDPOINT: emulator.endpoint,
      RRSA_ENDPOINT_PROTOCOL: 'http',
      RRSA_LEADER_ELECT: 'false',
      RRSA_LOG_LEVEL: 'error',
      RRSA_CONCURRENCY: '8',
      ALIBABA_CLOUD_ACCESS_KEY_ID: emulator.rootKey.accessKeyId,
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: emulator.rootKey.accessKeySecret,
      NODE_OPTIONS: nodeOptions,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  },
);
const rss = () => {
  const status = readFileSync(`/proc/${manager.pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) / 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
};
const reconcileStarted = Date.now();
for (;;) {
  await sleep(2000);
  let done = 0;
  for (let n = 0; n < namespaces; n++) {
    const list = (await withApiRetry(() =>
      kube.custom.listNamespacedCustomObject({
        group: 'rrsa.dev',
        version: 'v1alpha1',
        plural: 'podidentitybindings',
        namespace: `mem-${n}`,
      }),
    )) as { items: { status?: { observedGeneration?: number } }[] };
    done += list.items.filter((b) => b.status?.observedGeneration === 1).length;
  }
  if (done >= bindings) break;
}
log(`all ${bindings} bindings reconciled (status written) in ${Date.now() - reconcileStarted} ms`);
await sleep(5000);
const settled = rss();
const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
const gauge = (name: string) =>
  Number(new RegExp(`^rrsa_${name} (\\S+)$`, 'm').exec(metrics)?.[1] ?? NaN) / 2 ** 20;
log(
  `manager with ${serviceAccounts} ServiceAccounts and ${bindings} bindings cached` +
    `${nodeOptions ? ` (NODE_OPTIONS=${nodeOptions})` : ''}: RSS ${settled.rss.toFixed(0)} MiB` +
    ` (peak ${settled.peak.toFixed(0)} MiB), V8 heap used ${gauge('nodejs_heap_size_used_bytes').toFixed(0)}` +
    ` of ${gauge('nodejs_heap_size_total_bytes').toFixed(0)} MiB, external ${gauge('nodejs_external_memory_bytes').toFixed(0)} MiB`,
);
manager.kill('SIGTERM');
await new Promise((r) => manager.once('exit', r));
await emulator.stop();
await cp.stop();

// Controller convergence benchmark (prints figures; not a test).
//   node hack/bench/controller.ts [--bindings 100,1000] [--qps 50] [--latency-ms 30]
// A dedicated local control plane and an in-process emulator with per-call latency; the manager
// runs as a child process (its peak RSS is read from /proc). For each N: create N bindings at
// once, time until all are Ready, RAM calls per binding by action, the lower bound set by the
// rate limit (calls / qps) and the ratio; then one full resync (writes must be 0); then delete
// all (time, roles left).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createClusterOidcProvider } from '../../devenv/cloud-setup.ts';
import { startControlPlane } from '../../devenv/controlplane.ts';
import { kubectl } from '../../devenv/kubectl.ts';
import { findFreePort } from '../../devenv/ports.ts';
import { start as startEmulator } from '@rrsa-operator/alibaba-cloud-emulator';
import { createKubeClients, loadKubeConfig, withApiRetry } from '../../src/kube/client.ts';
import { resyncPeriodMs } from '../../src/controller/resync.ts';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2)
  args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1] ?? '');
const sizes = (args.get('bindings') ?? '100,1000').split(',').map(Number);
const qps = Number(args.get('qps') ?? 50);
const latencyMs = Number(args.get('latency-ms') ?? 30);
const resyncS = Number(args.get('resync-s') ?? 60);
// --resync-phase no: skip waiting a full (possibly stretched) resync period at large N.
const resyncPhase = args.get('resync-phase') !== 'no';
const root = join(import.meta.dirname, '..', '..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (line: string) => process.stdout.write(`${line}\n`);

const cp = await startControlPlane({ repoRoot: root });
process.env.RRSA_KUBECTL = cp.kubectl;
// The request log must hold every call of the largest phase (about 4 per binding), or counts are cut.
const emulator = await startEmulator({
  seed: 'bench',
  quotas: { roles: 100_000 },
  requestLogLimit: 1_000_000,
});
emulator.controls.faults.add({ service: 'ram', latencyMs });
const clusterId = 'bench';
await createClusterOidcProvider({
  endpoint: emulator.endpoint,
  credentials: emulator.rootKey,
  clusterId,
  issuerUrl: cp.issuer,
  issuerCaPem: cp.caPem,
});
await kubectl(cp.kubeconfigPath, ['apply', '-f', join(root, 'crds')]);
await kubectl(cp.kubeconfigPath, ['wait', '--for=condition=Established', '-f', join(root, 'crds')]);
await kubectl(cp.kubeconfigPath, ['create', 'namespace', 'rrsa-system']);
const kube = createKubeClients(loadKubeConfig(cp.kubeconfigPath));

const healthPort = await findFreePort();
const manager = spawn(
  join(root, 'node_modules', '.bin', 'node'),
  [
    'src/main.ts',
    'manager',
    `--kubeconfig=${cp.kubeconfigPath}`,
    `--health-port=${healthPort}`,
    `--metrics-port=${healthPort}`,
  ],
  {
    cwd: root,
    env: {
      ...process.env,
      RRSA_CLUSTER_ID: clusterId,
      RRSA_RAM_ENDPOINT: emulator.endpoint,
      RRSA_STS_ENDPOINT: emulator.endpoint,
      RRSA_IMS_ENDPOINT: emulator.endpoint,
      RRSA_ENDPOINT_PROTOCOL: 'http',
      RRSA_RAM_QPS: String(qps),
      RRSA_RAM_BURST: String(Math.max(1, Math.round(qps / 5))),
      RRSA_CONCURRENCY: '16',
      RRSA_RESYNC: `${resyncS}s`,
      RRSA_LEADER_ELECT: 'false',
      RRSA_LOG_LEVEL: 'warn',
      ALIBABA_CLOUD_ACCESS_KEY_ID: emulator.rootKey.accessKeyId,
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: emulator.rootKey.accessKeySecret,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  },
);
const peakRssMb = () => {
  const status = readFileSync(`/proc/${manager.pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
};

async function readyCount(ns: string): Promise<{ total: number; ready: number }> {
  const list = (await withApiRetry(() =>
    kube.custom.listNamespacedCustomObject({
      group: 'rrsa.dev',
      version: 'v1alpha1',
      plural: 'podidentitybindings',
      namespace: ns,
    }),
  )) as {
    items: { status?: { conditions?: { type: string; status: string }[] } }[];
  };
  const ready = list.items.filter((b) =>
    b.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
  ).length;
  return { total: list.items.length, ready };
}

async function inParallel<T>(
  items: T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

function callsByAction(since: number): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of emulator.controls.requests({ since, service: 'ram' }))
    counts[r.action] = (counts[r.action] ?? 0) + 1;
  return counts;
}

const perBinding = (counts: Record<string, number>, n: number) =>
  Object.entries(counts)
    .sort()
    .map(([a, c]) => `${a}=${(c / n).toFixed(2)}`)
    .join(' ');

await sleep(3000);
log(
  `machine: ${process.arch}, ${(await import('node:os')).cpus().length} cores; RAM qps ${qps}, emulator latency ${latencyMs} ms, resync ${resyncS}s`,
);
try {
  for (const n of sizes) {
    const ns = `bench-${n}`;
    await kubectl(cp.kubeconfigPath, ['create', 'namespace', ns]);
    const seq = emulator.controls.lastSeq();
    const started = Date.now();
    await inParallel([...Array(n).keys()], 16, async (i) => {
      await withApiRetry(() =>
        kube.custom.createNamespacedCustomObject({
          group: 'rrsa.dev',
          version: 'v1alpha1',
          plural: 'podidentitybindings',
          namespace: ns,
          body: {
            apiVersion: 'rrsa.dev/v1alpha1',
            kind: 'PodIdentityBinding',
            metadata: { name: `b${i}` },
            spec: {
              serviceAccountName: `sa${i}`,
              createServiceAccount: true,
              role: { policies: [{ type: 'System', name: 'AliyunOSSReadOnlyAccess' }] },
            },
          },
        }),
      );
    });
    const createdMs = Date.now() - started;
    for (;;) {
      const { ready } = await readyCount(ns);
      if (ready === n) break;
      await sleep(500);
    }
    const readyMs = Date.now() - started;
    const create = callsByAction(seq);
    const calls = Object.values(create).reduce((a, b) => a + b, 0);
    const lowerBoundMs = (calls / qps) * 1000;
    log(
      `N=${n}: created in ${createdMs} ms; all Ready in ${readyMs} ms; ${calls} RAM calls (${(calls / n).toFixed(2)}/binding: ${perBinding(create, n)}); rate-limit lower bound ${Math.round(lowerBoundMs)} ms; ratio ${(readyMs / lowerBoundMs).toFixed(2)}; manager peak RSS ${peakRssMb().toFixed(0)} MiB`,
    );

    if (resyncPhase) {
      // The manager stretches the period so drift checks use at most half the RAM budget.
      const periodMs = resyncPeriodMs({ configuredMs: resyncS * 1000, bindings: n, ramQps: qps });
      const resyncSeq = emulator.controls.lastSeq();
      await sleep(periodMs * 1.15);
      const resync = callsByAction(resyncSeq);
      const writes = emulator.controls.requests({
        since: resyncSeq,
        service: 'ram',
        write: true,
      }).length;
      log(
        `N=${n}: one resync period (${Math.round(periodMs / 1000)} s): ${writes} RAM writes; reads per binding: ${perBinding(resync, n)}`,
      );
    }

    const deleteStarted = Date.now();
    await kubectl(cp.kubeconfigPath, [
      'delete',
      'podidentitybindings',
      '--all',
      '-n',
      ns,
      '--wait=false',
    ]);
    for (;;) {
      const { total } = await readyCount(ns);
      if (total === 0) break;
      await sleep(500);
    }
    const left = emulator.controls
      .dump()
      .roles.filter((r) => r.tags['rrsa.dev/cluster-id'] === clusterId).length;
    log(
      `N=${n}: deleted all in ${Date.now() - deleteStarted} ms; roles left: ${left}; manager peak RSS ${peakRssMb().toFixed(0)} MiB`,
    );
  }
} finally {
  manager.kill('SIGTERM');
  await new Promise((r) => manager.once('exit', r));
  await emulator.stop();
  await cp.stop();
}

// Controller convergence benchmark (prints figures; not a test). `--help` for the flags.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { findFreePort } from '../../devenv/ports.ts';
import { withApiRetry } from '../../src/kube/client.ts';
import { resyncPeriodMs } from '../../src/controller/resync.ts';
import {
  inParallel,
  log,
  machineLine,
  parseArgs,
  processMemory,
  root,
  sleep,
  startBenchEnv,
} from './env.ts';

const USAGE = `usage: npm run bench:controller -- [flags]
Convergence at scale. A dedicated local control plane and an in-process emulator with per-call
latency; the manager runs as a child process (its peak RSS is read from /proc). For each N: create
N bindings at once, time until all are Ready, RAM calls per binding by action, the lower bound set
by the rate limit (calls / qps) and the ratio; then one full resync period (RAM writes must be 0;
reads per binding per period); then delete all (time, roles left).

  --bindings N,M      sizes to run, one after another (default 100,1000)
  --qps N             manager RAM rate limit, calls/s (default 50; burst qps/5)
  --latency-ms N      emulator latency per RAM call (default 30)
  --resync-s N        manager --resync, seconds (default 60; the manager stretches it so resyncs
                      use at most half the RAM budget)
  --resync-phase no   skip waiting a full resync period (long at large N)
  --delete-phase no   skip deleting the bindings at the end
  --settle-s N        seconds between all Ready and the resync window (default 10)
  --help              this text
`;
const args = parseArgs(USAGE);
const sizes = (args.get('bindings') ?? '100,1000').split(',').map(Number);
const qps = Number(args.get('qps') ?? 50);
const latencyMs = Number(args.get('latency-ms') ?? 30);
const resyncS = Number(args.get('resync-s') ?? 60);
const resyncPhase = args.get('resync-phase') !== 'no';
const deletePhase = args.get('delete-phase') !== 'no';
const settleS = Number(args.get('settle-s') ?? 10);

log(`${machineLine()}; RAM qps ${qps}, emulator latency ${latencyMs} ms, resync ${resyncS}s`);
// The request log must hold every call of the largest phase, or counts are cut.
const env = await startBenchEnv({
  clusterId: 'bench',
  seed: 'bench',
  latencyMs,
  emulator: { quotas: { roles: 100_000 }, requestLogLimit: 1_000_000 },
});
const { cp, emulator, kube } = env;
const clusterId = 'bench';
const kubectl = (_path: string, argv: string[]) => env.kubectl(argv);

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
      ...env.managerEnv(),
      RRSA_RAM_QPS: String(qps),
      RRSA_RAM_BURST: String(Math.max(1, Math.round(qps / 5))),
      RRSA_CONCURRENCY: '16',
      RRSA_RESYNC: `${resyncS}s`,
      RRSA_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  },
);
const peakRssMb = () => processMemory(manager.pid).peak;

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
try {
  for (const n of sizes) {
    const ns = `bench-${n}`;
    await kubectl(cp.kubeconfigPath, ['create', 'namespace', ns]);
    const seq = emulator.controls.lastSeq();
    const started = Date.now();
    await inParallel(n, 16, async (i) => {
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
    // Polled at 1/200 of the time so far (at least 0.5 s): listing thousands of bindings every
    // half second loads the same two cores the manager and apiserver run on.
    for (;;) {
      const { ready } = await readyCount(ns);
      if (ready === n) break;
      await sleep(Math.max(500, (Date.now() - started) / 200));
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
      // Settle first: passes still queued when the last binding turned Ready (the re-check after
      // a ServiceAccount event lags under load) are creation work, not resync.
      await sleep(settleS * 1000);
      const resyncSeq = emulator.controls.lastSeq();
      await sleep(periodMs);
      const resync = callsByAction(resyncSeq);
      const writes = emulator.controls.requests({
        since: resyncSeq,
        service: 'ram',
        write: true,
      }).length;
      // Checks per binding per period: GetRole calls (one per check) over the window, scaled.
      const checks = (resync.GetRole ?? 0) / n;
      log(
        `N=${n}: one resync period (${Math.round(periodMs / 1000)} s, after ${settleS} s settling): ${writes} RAM writes; reads per binding: ${perBinding(resync, n)}; checks per binding per period ${checks.toFixed(2)}, RAM reads per binding per period ${(Object.values(resync).reduce((x, y) => x + y, 0) / n).toFixed(2)}`,
      );
    }

    if (!deletePhase) continue;
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
  log(`load average at the end: ${machineLine().split('load average ')[1]}`);
  await env.stop();
}

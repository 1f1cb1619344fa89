// Memory at scale (prints figures; not a test). `--help` for the flags.
import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { findFreePort } from '../../devenv/ports.ts';
import { withApiRetry } from '../../src/kube/client.ts';
import {
  inParallel,
  log,
  machineLine,
  parseArgs,
  processMemory,
  root,
  sleep,
  startBenchEnv,
  tcpConnectionsTo,
} from './env.ts';
import { imageEnv, nodeArgsFrom } from './image-flags.ts';
import { heapFigures, heapSnapshot, Inspector, smapsGroups, smapsRollup } from './mem-diag.ts';

const USAGE = `usage: npm run bench:memory -- [flags]
The manager's memory with S ServiceAccounts and B bindings in its caches. A dedicated local
control plane and an in-process emulator; the manager runs compiled (dist/, as in the image) in a
child process, and its RSS, peak RSS and TCP connections to the apiserver are read from /proc, the
V8 heap from its /metrics.
Bindings ask for a denied policy, so each is reconciled (status written) without RAM calls: this
measures the caches and the reconcile path, not the cloud. --service-accounts 0 --bindings 0
gives the idle figure.

  --service-accounts N   ServiceAccounts created in 10 namespaces (default 10000)
  --bindings N           PodIdentityBindings created (default 5000)
  --node-options S       NODE_OPTIONS for the manager, e.g. '--max-old-space-size=256' to run as
                         under a container memory limit (default none)
  --node-args S          space-separated node flags before the script, for V8 flags Node does not
                         take from NODE_OPTIONS (default: those of the Dockerfile's ENTRYPOINT;
                         '' for none), e.g. '--optimize-for-size'
The manager gets the environment the image's final stage sets (ENV lines: MALLOC_ARENA_MAX, ...),
overridden by this process's, so MALLOC_ARENA_MAX=... npm run bench:memory measures other glibc
malloc settings.
  --settle S             seconds to wait after the last status write before measuring
                         (default 5); RSS is also read every 5 s while waiting, and its low printed
  --diagnose yes|no      after the figures above, break the settled manager's memory down
                         (default yes): /proc/PID/smaps_rollup, RSS by allocator from
                         /proc/PID/smaps, then a forced full GC over the inspector (the manager
                         runs with --inspect=127.0.0.1:PORT for this) and the live heap and RSS
                         after it. The figures above are read before the inspector is attached.
  --heap-snapshot FILE   with --diagnose, also write a heap snapshot after the GC and print its
                         top constructors by self size
  --help                 this text
`;
const args = parseArgs(USAGE);
const serviceAccounts = Number(args.get('service-accounts') ?? 10_000);
const bindings = Number(args.get('bindings') ?? 5_000);
const nodeOptions = args.get('node-options') ?? '';
const settleSeconds = Number(args.get('settle') ?? 5);
const nodeArgs = nodeArgsFrom(args.get('node-args'));
const diagnose = (args.get('diagnose') ?? 'yes') !== 'no';
const snapshotFile = args.get('heap-snapshot');
const namespaces = 10;

log(`${machineLine()}; ${serviceAccounts} ServiceAccounts, ${bindings} bindings`);
const env = await startBenchEnv({ clusterId: 'mem', seed: 'memory' });
const { kube } = env;
for (let n = 0; n < namespaces; n++) await env.kubectl(['create', 'namespace', `mem-${n}`]);

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

// What the image runs: the product bundle, built as the Dockerfile builds it (running src/*.ts
// would add Node's type-stripping WebAssembly memory, which no deployment carries).
const dist = join(root, '.cache', 'bench-memory', 'dist');
execFileSync(
  join(root, 'node_modules', '.bin', 'node'),
  [join(root, 'hack', 'build.ts'), '--outdir', dist],
  { cwd: root, stdio: 'inherit' },
);
const port = await findFreePort();
const inspectPort = await findFreePort();
const manager = spawn(
  join(root, 'node_modules', '.bin', 'node'),
  [
    ...nodeArgs,
    ...(diagnose ? [`--inspect=127.0.0.1:${inspectPort}`] : []),
    join(dist, 'main.js'),
    'manager',
    `--kubeconfig=${env.cp.kubeconfigPath}`,
    `--health-port=${port}`,
    `--metrics-port=${port}`,
    `--webhook-port=${await findFreePort()}`,
  ],
  {
    cwd: root,
    env: {
      ...imageEnv(),
      ...process.env,
      ...env.managerEnv(),
      RRSA_LOG_LEVEL: 'error',
      RRSA_CONCURRENCY: '8',
      NODE_OPTIONS: nodeOptions,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  },
);
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
let low = Infinity;
for (let waited = 0; waited < settleSeconds; waited += 5) {
  await sleep(Math.min(5, settleSeconds - waited) * 1000);
  low = Math.min(low, processMemory(manager.pid).rss);
}
const settled = processMemory(manager.pid);
const apiserverPort = Number(new URL(env.cp.server).port);
const connections = tcpConnectionsTo(manager.pid, apiserverPort);
const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
const gauge = (name: string) =>
  Number(new RegExp(`^rrsa_${name} (\\S+)$`, 'm').exec(metrics)?.[1] ?? NaN) / 2 ** 20;
const space = (name: string, kind: 'used' | 'total') =>
  Number(
    new RegExp(`^rrsa_nodejs_heap_space_size_${kind}_bytes\\{space="${name}"\\} (\\S+)$`, 'm').exec(
      metrics,
    )?.[1] ?? NaN,
  ) /
  2 ** 20;
const flags = [
  nodeOptions && `NODE_OPTIONS=${nodeOptions}`,
  nodeArgs.length > 0 && `node ${nodeArgs.join(' ')}`,
  // The glibc malloc settings the manager ran with: the image's, overridden by this process's.
  ...Object.entries({ ...imageEnv(), ...process.env })
    .filter(([name]) => name.startsWith('MALLOC_'))
    .map(([name, value]) => `${name}=${value}`),
].filter(Boolean);
log(
  `manager with ${serviceAccounts} ServiceAccounts and ${bindings} bindings cached` +
    `${flags.length > 0 ? ` (${flags.join(', ')})` : ''}: RSS ${settled.rss.toFixed(0)} MiB` +
    ` (peak ${settled.peak.toFixed(0)} MiB), V8 heap used ${gauge('nodejs_heap_size_used_bytes').toFixed(0)}` +
    ` of ${gauge('nodejs_heap_size_total_bytes').toFixed(0)} MiB, external ${gauge('nodejs_external_memory_bytes').toFixed(0)} MiB,` +
    ` ${connections} TCP connections to the apiserver`,
);
log(
  `${settleSeconds} s after the last status write (lowest RSS read while waiting ${low.toFixed(0)} MiB);` +
    ` RSS ${settled.anon.toFixed(0)} MiB anonymous + ${settled.file.toFixed(0)} MiB file-backed;` +
    ` V8 heap used / committed by space (MiB): ${['new', 'old', 'code', 'large_object', 'trusted']
      .map(
        (name) => `${name} ${space(name, 'used').toFixed(0)} / ${space(name, 'total').toFixed(0)}`,
      )
      .join(', ')}`,
);
if (diagnose) await diagnosis(manager.pid!);
log(`load average at the end: ${machineLine().split('load average ')[1]}`);
manager.kill('SIGTERM');
await new Promise((r) => manager.once('exit', r));
await env.stop();

/** Where the settled manager's RSS sits, and what a full GC gives back. */
async function diagnosis(pid: number): Promise<void> {
  const mib = (n: number | undefined) => (n ?? NaN).toFixed(1);
  const rollup = (label: string) => {
    const r = smapsRollup(pid);
    log(
      `${label}: smaps_rollup (MiB) Rss ${mib(r.Rss)}, Anonymous ${mib(r.Anonymous)},` +
        ` LazyFree ${mib(r.LazyFree)}, Private_Dirty ${mib(r.Private_Dirty)},` +
        ` Private_Clean ${mib(r.Private_Clean)}, Shared_Clean ${mib(r.Shared_Clean)},` +
        ` AnonHugePages ${mib(r.AnonHugePages)}, Swap ${mib(r.Swap)}`,
    );
    const { groups, largest } = smapsGroups(pid);
    log(
      `${label}: RSS by allocator (MiB, mappings): ` +
        groups
          .filter(([, g]) => g.rss >= 0.5)
          .map(
            ([k, g]) =>
              `${k} ${mib(g.rss)} (${g.count}${g.lazyFree > 0 ? `, LazyFree ${mib(g.lazyFree)}` : ''})`,
          )
          .join('; '),
    );
    log(`${label}: largest anonymous mappings: ${largest.join('; ')}`);
  };
  const heap = (label: string, h: Awaited<ReturnType<typeof heapFigures>>) =>
    log(
      `${label}: V8 heap used / committed by space (MiB): ` +
        h.spaces.map((s) => `${s.name} ${mib(s.used)} / ${mib(s.committed)}`).join(', ') +
        `; total ${mib(h.usage.heapUsed)} / ${mib(h.usage.heapTotal)}, external ${mib(h.usage.external)},` +
        ` arrayBuffers ${mib(h.usage.arrayBuffers)}`,
    );
  rollup('before GC');
  const inspector = await Inspector.connect(inspectPort);
  heap('before GC', await heapFigures(inspector));
  // Two passes: the first finalizes weak references the second can then collect.
  await inspector.send('HeapProfiler.collectGarbage');
  await inspector.send('HeapProfiler.collectGarbage');
  await sleep(2000);
  heap('after full GC', await heapFigures(inspector));
  log(`after full GC: RSS ${processMemory(pid).rss.toFixed(0)} MiB`);
  rollup('after full GC');
  if (snapshotFile) {
    const top = await heapSnapshot(inspector, snapshotFile);
    log(
      `heap snapshot ${snapshotFile}: top constructors by self size (MiB, count): ` +
        top.map((t) => `${t.name} ${mib(t.self)} (${t.count})`).join(', '),
    );
  }
  inspector.close();
}

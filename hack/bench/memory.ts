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
import { nodeArgsFrom } from './image-flags.ts';

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
                         take from NODE_OPTIONS (default: those of the Dockerfile's ENTRYPOINT,
                         none today; '' for none), e.g. '--optimize-for-size'
The manager gets the environment of this process, so MALLOC_ARENA_MAX=... npm run bench:memory
measures glibc malloc settings.
  --settle S             seconds to wait after the last status write before measuring
                         (default 5); RSS is also read every 5 s while waiting, and its low printed
  --help                 this text
`;
const args = parseArgs(USAGE);
const serviceAccounts = Number(args.get('service-accounts') ?? 10_000);
const bindings = Number(args.get('bindings') ?? 5_000);
const nodeOptions = args.get('node-options') ?? '';
const settleSeconds = Number(args.get('settle') ?? 5);
const nodeArgs = nodeArgsFrom(args.get('node-args'));
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
    ...nodeArgs,
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
  process.env.MALLOC_ARENA_MAX && `MALLOC_ARENA_MAX=${process.env.MALLOC_ARENA_MAX}`,
  process.env.MALLOC_TRIM_THRESHOLD_ &&
    `MALLOC_TRIM_THRESHOLD_=${process.env.MALLOC_TRIM_THRESHOLD_}`,
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
log(`load average at the end: ${machineLine().split('load average ')[1]}`);
manager.kill('SIGTERM');
await new Promise((r) => manager.once('exit', r));
await env.stop();

// RAM fairness benchmark (prints figures; not a test). `--help` for the flags.
// A dedicated local control plane and an in-process emulator; the manager runs in process (so
// the benchmark can switch its limiter to plain FIFO, a ManagerConfig option that is no flag).
// Per mode: time-to-Ready of fresh bindings in namespace B (a) quiet and (b) while N bindings in
// namespace A never converge (the emulator fails AttachPolicyToRole for their roles with a 500
// InternalError, so every retry costs RAM reads before the failing write), and their ratio.
import { readFileSync } from 'node:fs';
import { findFreePort } from '../../devenv/ports.ts';
import { loadConfig } from '../../src/config/load.ts';
import { withApiRetry } from '../../src/kube/client.ts';
import { createLogger } from '../../src/runtime/logger.ts';
import { startManager, toManagerConfig } from '../../src/manager/manager.ts';
import { log, machineLine, parseArgs, sleep, startBenchEnv } from './env.ts';

const USAGE = `usage: npm run bench:fairness -- [flags]
Time-to-Ready of a fresh binding in namespace B, quiet and while never-converging bindings in
namespace A retry, with the RAM limiter's per-namespace fair queuing (and optionally plain FIFO).

  --ram-qps N        manager --ram-qps (default 5)
  --ram-burst N      manager --ram-burst (default 1)
  --concurrency N    manager --concurrency (default 16)
  --noisy N          never-converging bindings in namespace A (default 20)
  --samples N        fresh B bindings timed per phase, one after another (default 3)
  --gap-ms N         pause before each timed B binding (default 3000; 0: back to back, so
                     namespace B is busy too and the two share the limit half and half)
  --warmup-s N       seconds A retries before the busy phase (default 5)
  --latency-ms N     emulator latency per RAM call (default 30)
  --fair MODE        true | false (FIFO) | both (default both)
  --trace            print each timed binding's RAM calls (ms after its creation)
  --help             this text
`;

const args = parseArgs(USAGE);
const num = (key: string, fallback: number) => Number(args.get(key) ?? fallback);
const qps = num('ram-qps', 5);
const burst = num('ram-burst', 1);
const concurrency = num('concurrency', 16);
const noisy = num('noisy', 20);
const samples = num('samples', 3);
const warmupS = num('warmup-s', 5);
const latencyMs = num('latency-ms', 30);
const gapMs = num('gap-ms', 3000);
const fairArg = args.get('fair') ?? 'both';
const modes = fairArg === 'both' ? [true, false] : [fairArg !== 'false'];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const clusterId = 'bench';
const env = await startBenchEnv({
  clusterId,
  seed: 'bench',
  latencyMs,
  emulator: { requestLogLimit: 1_000_000 },
});
const { cp, emulator, kube } = env;
const kubectl = (_path: string, argv: string[]) => env.kubectl(argv);
process.env.ALIBABA_CLOUD_ACCESS_KEY_ID = emulator.rootKey.accessKeyId;
process.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET = emulator.rootKey.accessKeySecret;

const api = { group: 'rrsa.dev', version: 'v1alpha1', plural: 'podidentitybindings' };

async function createBinding(namespace: string, name: string, mode: string): Promise<void> {
  await withApiRetry(() =>
    kube.custom.createNamespacedCustomObject({
      ...api,
      namespace,
      body: {
        apiVersion: 'rrsa.dev/v1alpha1',
        kind: 'PodIdentityBinding',
        metadata: { name, labels: { 'bench-mode': mode } },
        spec: {
          serviceAccountName: name,
          createServiceAccount: true,
          role: { policies: [{ type: 'System', name: 'AliyunOSSReadOnlyAccess' }] },
        },
      },
    }),
  );
}

async function isReady(namespace: string, name: string): Promise<boolean> {
  const b = (await withApiRetry(() =>
    kube.custom.getNamespacedCustomObject({ ...api, namespace, name }),
  )) as { status?: { conditions?: { type: string; status: string }[] } };
  return b.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** Creates `name` and polls (every 50 ms) until it is Ready; milliseconds. */
async function timeToReady(namespace: string, name: string, mode: string): Promise<number> {
  const started = Date.now();
  await createBinding(namespace, name, mode);
  while (!(await isReady(namespace, name))) {
    if (Date.now() - started > 300_000) throw new Error(`${namespace}/${name} not Ready in 5 min`);
    await sleep(50);
  }
  const took = Date.now() - started;
  if (args.has('trace')) {
    const calls = emulator.controls
      .requests({ service: 'ram' })
      .filter((r) => Date.parse(r.time) >= started)
      .map((r) => {
        const who = r.params?.RoleName ?? r.params?.PolicyName ?? '';
        const mine = who.includes(`${namespace}.${name}-`) ? '*' : '';
        return `${mine}${r.action}(${who.split('.').slice(0, 2).join('.')})@${Date.parse(r.time) - started}`;
      });
    log(`  ${namespace}/${name} Ready after ${took} ms: ${calls.join(' ')}`);
  }
  return took;
}

const ramCalls = (since: number, roleMatch: string) =>
  emulator.controls
    .requests({ since, service: 'ram' })
    .filter((r) => (r.params?.RoleName ?? '').includes(roleMatch)).length;

log(
  `${machineLine()}; RAM qps ${qps}, burst ${burst}, concurrency ${concurrency}, emulator latency ${latencyMs} ms, ${noisy} noisy bindings, ${samples} samples ${gapMs} ms apart, warm-up ${warmupS}s`,
);
const results: { mode: string; quiet: number; busy: number; aRate: number }[] = [];
try {
  for (const fair of modes) {
    const mode = fair ? 'fair' : 'fifo';
    const nsA = `noisy-${mode}`;
    const nsB = `quiet-${mode}`;
    for (const ns of [nsA, nsB]) await kubectl(cp.kubeconfigPath, ['create', 'namespace', ns]);
    const port = await findFreePort();
    const config = toManagerConfig(
      loadConfig({
        argv: [
          `--kubeconfig=${cp.kubeconfigPath}`,
          `--cluster-id=${clusterId}`,
          `--ram-endpoint=${emulator.endpoint}`,
          `--sts-endpoint=${emulator.endpoint}`,
          `--ims-endpoint=${emulator.endpoint}`,
          '--endpoint-protocol=http',
          `--ram-qps=${qps}`,
          `--ram-burst=${burst}`,
          `--concurrency=${concurrency}`,
          '--leader-elect=false',
          '--webhook=false',
          `--health-port=${port}`,
          `--metrics-port=${port}`,
          `--binding-selector=bench-mode=${mode}`,
        ],
        env: {},
        readFile: (path) => readFileSync(path, 'utf8'),
      }),
    );
    const manager = await startManager(
      { ...config, ramFairQueuing: fair },
      { logger: createLogger('error', true) },
    );
    try {
      await sleep(2000);
      const quiet: number[] = [];
      for (let i = 0; i < samples; i++) {
        await sleep(gapMs);
        quiet.push(await timeToReady(nsB, `q${i}`, mode));
      }
      await sleep(1500); // the bucket refills as it would between quiet reconciles
      const fault = emulator.controls.faults.add({
        service: 'ram',
        action: 'AttachPolicyToRole',
        params: { RoleName: `*${nsA}.*` },
        code: 'InternalError',
      });
      for (let i = 0; i < noisy; i++) await createBinding(nsA, `n${i}`, mode);
      await sleep(warmupS * 1000);
      const seq = emulator.controls.lastSeq();
      const busyStarted = Date.now();
      const busy: number[] = [];
      for (let i = 0; i < samples; i++) {
        await sleep(gapMs);
        busy.push(await timeToReady(nsB, `b${i}`, mode));
      }
      const aRate = ramCalls(seq, `${nsA}.`) / ((Date.now() - busyStarted) / 1000);
      const readyA = await Promise.all(
        Array.from({ length: noisy }, (_, i) => isReady(nsA, `n${i}`)),
      );
      const readyNoisy = readyA.filter(Boolean).length;
      if (args.has('trace')) {
        const calls = emulator.controls
          .requests({ since: seq - 2000, service: 'ram' })
          .filter((r) => (r.params?.RoleName ?? '').includes(`${nsA}.`));
        log(
          `  namespace A: ${calls.length} RAM calls from the warm-up on: ${calls
            .slice(-8)
            .map((r) => `${r.action}:${r.code ?? 'ok'}@${r.time.slice(17, 23)}`)
            .join(' ')}`,
        );
        const sample = (await withApiRetry(() =>
          kube.custom.getNamespacedCustomObject({ ...api, namespace: nsA, name: 'n0' }),
        )) as { status?: { conditions?: { type: string; message?: string }[] } };
        const ready = sample.status?.conditions?.find((c) => c.type === 'Ready');
        log(`  ${nsA}/n0 Ready: ${ready?.message ?? '(no condition)'}`);
      }
      emulator.controls.faults.remove(fault.id);
      log(
        `${mode}: quiet ${quiet.join(', ')} ms; busy ${busy.join(', ')} ms; namespace A made ${aRate.toFixed(1)} RAM calls/s during the busy phase (${readyNoisy} of ${noisy} Ready)`,
      );
      results.push({ mode, quiet: median(quiet), busy: median(busy), aRate });
    } finally {
      await manager.stop();
    }
  }
  log('');
  log('| limiter | B quiet (median) | B while A retries (median) | ratio |');
  log('| ------- | ---------------- | -------------------------- | ----- |');
  for (const r of results)
    log(`| ${r.mode} | ${r.quiet} ms | ${r.busy} ms | ${(r.busy / r.quiet).toFixed(2)}x |`);
  log(`load average at the end: ${machineLine().split('load average ')[1]}`);
} finally {
  await env.stop();
}

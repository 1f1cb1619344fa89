// Admission throughput and latency of the pod identity webhook over TLS with keep-alive.
//
//   node_modules/.bin/node hack/bench/webhook.ts            (BENCH_SECONDS=3 per level)
//
// The server runs in a child process (so its CPU and RSS are its own), with a static
// certificate and an in-memory IdentityLookup: this measures the webhook, not the apiserver.
// The load generator is one Node process; at high concurrency it may be the limit, which the
// webhook's CPU column shows (well below 100% means the client, not the webhook, is saturated).
import { Agent, request } from 'node:https';
import { execFile, fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { podCreateReview } from '../../devenv/admission-review.ts';
import { createCertificateAuthority, issueCertificate } from '../../src/webhook/certs/pki.ts';
import { imageEnv, nodeArgsFrom } from './image-flags.ts';
import { machineLine } from './machine.ts';
import { smapsGroups } from './mem-diag.ts';
import type { Ready, Stats } from './webhook-server.ts';

const USAGE = `usage: npm run bench:webhook [-- --help]
Admission throughput and latency of the pod identity webhook over TLS with keep-alive: the
server in a child process (static certificate, in-memory IdentityLookup: the webhook, not the
apiserver), one load-generating process, concurrency 1, 8, 32 and 64, for the ACK demo pod and
a large pod. Per level: admissions/s, p50/p99/p999 latency, the webhook's CPU (share of a core
and microseconds per admission, over the measured window), its RSS (mean
and highest of readings every 250 ms under load), and its V8 heap in use / committed and
external (Buffer) memory at the end of the level, in MiB.

  BENCH_SECONDS=N   seconds per concurrency level (default 3)
  --processes N     webhook processes sharing the port with SO_REUSEPORT (default 1); CPU and
                    RSS are their sums
  --node-args S     node flags of the webhook process, space-separated (default: those of the
                    Dockerfile's ENTRYPOINT; '' for none)
  --no-park         keep reading idle connections while every admission slot is taken (the
                    server before docs/adr/0022), to compare
  --max-admissions N  the server's admission concurrency (default: the product's)
  --target URL      load a webhook this benchmark does not start (a peer implementation, say)
                    at URL instead, with --target-ca FILE (its CA, PEM) and --target-pid PID
                    (CPU and RSS read from /proc); the reviews name ServiceAccounts
                    rrsa-demo/demo-sa and rrsa-demo/big-sa, which it must know
  --generator G     node (default: this process, which tops out near 18-19k small admissions/s
                    here, a no-op server included) or wrk (apt-get install wrk; no p999)
  --levels L        comma-separated concurrency levels (default 1,8,32,64)
  --pods P          demo, large or both (default both)
  --help            this text
`;
if (process.argv.includes('--help') || process.argv.includes('-h')) {
  process.stdout.write(USAGE);
  process.exit(0);
}

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const LEVELS = (argValue('--levels') ?? '1,8,32,64').split(',').map(Number);
const PODS = argValue('--pods') ?? 'both';
const GENERATOR = argValue('--generator') ?? 'node';
if (!['node', 'wrk'].includes(GENERATOR)) {
  process.stderr.write(`--generator takes node or wrk\n\n${USAGE}`);
  process.exit(2);
}
if (
  LEVELS.some((n) => !Number.isInteger(n) || n < 1) ||
  !['demo', 'large', 'both'].includes(PODS)
) {
  process.stderr.write(`--levels takes positive integers, --pods demo, large or both\n\n${USAGE}`);
  process.exit(2);
}

const PROCESSES = Number(argValue('--processes') ?? 1);

function argValue(flag: string): string | undefined {
  const at = process.argv.indexOf(flag);
  return at < 0 ? undefined : process.argv[at + 1];
}

function demoPod(): unknown {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'demo', namespace: 'rrsa-demo' },
    spec: {
      serviceAccountName: 'demo-sa',
      containers: [
        {
          name: 'demo',
          image: 'registry.cn-hangzhou.aliyuncs.com/acs/ack-ram-tool:1.0.0',
          args: ['rrsa', 'demo'],
          volumeMounts: [
            {
              name: 'kube-api-access-7xk2p',
              mountPath: '/var/run/secrets/kubernetes.io/serviceaccount',
              readOnly: true,
            },
          ],
        },
      ],
      volumes: [
        {
          name: 'kube-api-access-7xk2p',
          projected: {
            defaultMode: 420,
            sources: [{ serviceAccountToken: { expirationSeconds: 3607, path: 'token' } }],
          },
        },
      ],
    },
  };
}

/** 3 init + 12 containers, 50 env vars and 5 mounts each, 12 volumes. */
function largePod(): unknown {
  const container = (name: string): unknown => ({
    name,
    image: `registry.example/${name}:1.2.3`,
    env: Array.from({ length: 50 }, (_, i) => ({
      name: `SETTING_${i}`,
      value: `value-${i}-${'x'.repeat(20)}`,
    })),
    volumeMounts: Array.from({ length: 5 }, (_, i) => ({
      name: `vol-${i}`,
      mountPath: `/data/${i}`,
    })),
    resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
    readinessProbe: { httpGet: { path: '/ready', port: 8080 }, periodSeconds: 5 },
  });
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { generateName: 'big-', namespace: 'rrsa-demo', labels: { app: 'big' } },
    spec: {
      serviceAccountName: 'big-sa',
      initContainers: Array.from({ length: 3 }, (_, i) => container(`init-${i}`)),
      containers: Array.from({ length: 12 }, (_, i) => container(`app-${i}`)),
      volumes: Array.from({ length: 12 }, (_, i) => ({ name: `vol-${i}`, emptyDir: {} })),
    },
  };
}

function review(pod: unknown): string {
  return podCreateReview(pod, { namespace: 'rrsa-demo' });
}

async function stats(children: ChildProcess[]): Promise<Stats> {
  const each = await Promise.all(
    children.map(
      (child) =>
        new Promise<Stats>((resolve) => {
          child.once('message', (m) => resolve(m as Stats));
          child.send('stats');
        }),
    ),
  );
  const sum = (field: Exclude<keyof Stats, 'spaces'>): number =>
    each.reduce((total, s) => total + s[field], 0);
  return {
    cpuMicros: sum('cpuMicros'),
    rss: sum('rss'),
    heapUsed: sum('heapUsed'),
    heapTotal: sum('heapTotal'),
    external: sum('external'),
    spaces: Object.fromEntries(
      Object.keys(each[0]!.spaces).map((name) => [
        name,
        each.reduce((total, s) => total + (s.spaces[name] ?? 0), 0),
      ]),
    ),
  };
}

function post(agent: Agent, ready: Ready, body: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: ready.port,
        path: ready.path,
        method: 'POST',
        agent,
        ca: ready.caPem,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let size = 0;
        res.on('data', (c: Buffer) => (size += c.length));
        res.on('end', () =>
          res.statusCode === 200 && size > 0
            ? resolve()
            : reject(new Error(`HTTP ${res.statusCode}`)),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** What one level's load produced: completed admissions, wall time, latency percentiles in ms. */
interface Load {
  count: number;
  wallMicros: number;
  p50: number;
  p99: number;
  /** NaN where the generator does not report it (wrk prints up to p99). */
  p999: number;
}

/** The load generator in this process: `concurrency` keep-alive connections, each posting in turn. */
async function nodeLoad(
  ready: Ready,
  body: string,
  concurrency: number,
  measuring: () => Promise<void>,
): Promise<Load> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const warmUntil = Date.now() + 500;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < warmUntil) await post(agent, ready, body);
    }),
  );
  const latencies: number[] = [];
  await measuring();
  const started = process.hrtime.bigint();
  const until = Date.now() + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < until) {
        const t = process.hrtime.bigint();
        await post(agent, ready, body);
        latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
      }
    }),
  );
  const wallMicros = Number(process.hrtime.bigint() - started) / 1e3;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const pct = (p: number): number =>
    latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
  return { count: latencies.length, wallMicros, p50: pct(0.5), p99: pct(0.99), p999: pct(0.999) };
}

/**
 * wrk (C, one thread per 32 connections, at most 2) as the load generator: this process's own
 * generator tops out near 18-19k small admissions/s on this machine, a no-op server included.
 */
async function wrkLoad(
  ready: Ready,
  body: string,
  concurrency: number,
  measuring: () => Promise<void>,
): Promise<Load> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-webhook-'));
  writeFileSync(join(dir, 'review.json'), body);
  const script = join(dir, 'post.lua');
  writeFileSync(
    script,
    `local f = io.open(${JSON.stringify(join(dir, 'review.json'))}, "rb")\n` +
      'wrk.body = f:read("*a")\nf:close()\nwrk.method = "POST"\n' +
      'wrk.headers["Content-Type"] = "application/json"\n',
  );
  const url = `https://127.0.0.1:${ready.port}${ready.path}`;
  const threads = String(Math.min(2, Math.ceil(concurrency / 32)));
  const run = (seconds: number): Promise<string> =>
    new Promise((resolve, reject) =>
      execFile(
        'wrk',
        [
          '-t',
          threads,
          '-c',
          String(concurrency),
          '-d',
          `${seconds}s`,
          '--latency',
          '-s',
          script,
          url,
        ],
        (error, stdout) => (error ? reject(new Error(`wrk: ${error.message}`)) : resolve(stdout)),
      ),
    );
  try {
    await run(1);
    await measuring();
    const out = await run(SECONDS);
    if (/Non-2xx|Socket errors/.test(out)) throw new Error(`wrk saw failed requests:\n${out}`);
    const count = Number(/(\d+) requests in/.exec(out)?.[1]);
    const ms = (p: string): number => {
      const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s)$`, 'm').exec(out);
      if (!m) return NaN;
      return Number(m[1]) * (m[2] === 'us' ? 1e-3 : m[2] === 's' ? 1e3 : 1);
    };
    return {
      count,
      // wrk measures for exactly SECONDS; timing its process here would add its start-up.
      wallMicros: SECONDS * 1e6,
      p50: ms('50'),
      p99: ms('99'),
      p999: NaN,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function level(
  read: () => Promise<Stats>,
  ready: Ready,
  body: string,
  concurrency: number,
): Promise<string> {
  // The server's CPU is read when the measured window opens (after the generator's warm-up).
  let before = await read();
  let levelStarted = process.hrtime.bigint();
  const measuring = async (): Promise<void> => {
    before = await read();
    levelStarted = process.hrtime.bigint();
  };
  const until = Date.now() + SECONDS * 1000 + (GENERATOR === 'wrk' ? 1000 : 500);
  // RSS sampled every 250 ms under load: one reading at the end lands anywhere in a GC cycle.
  const rssSamples: number[] = [];
  const sampling = (async () => {
    while (Date.now() < until - 250) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      rssSamples.push((await read()).rss);
    }
  })();
  const load = await (GENERATOR === 'wrk' ? wrkLoad : nodeLoad)(
    ready,
    body,
    concurrency,
    measuring,
  );
  await sampling;
  const after = await read();
  const levelMicros = Number(process.hrtime.bigint() - levelStarted) / 1e3;
  rssSamples.push(after.rss);
  const rssMean = rssSamples.reduce((a, b) => a + b, 0) / rssSamples.length;
  const rate = (load.count / (load.wallMicros / 1e6)).toFixed(0);
  // The server's CPU over the measured window: share of a core, and per admission.
  const cpu = (((after.cpuMicros - before.cpuMicros) / levelMicros) * 100).toFixed(0);
  const cpuPerAdmission = (after.cpuMicros - before.cpuMicros) / load.count;
  const ms = (v: number): string => (Number.isNaN(v) ? '-' : v.toFixed(2));
  return [
    String(concurrency).padStart(4),
    rate.padStart(8),
    ms(load.p50).padStart(8),
    ms(load.p99).padStart(8),
    ms(load.p999).padStart(8),
    `${cpu}%`.padStart(5),
    `${cpuPerAdmission.toFixed(0)}us`.padStart(6),
    `${mib(rssMean)}/${mib(Math.max(...rssSamples))}`.padStart(8),
    (Number.isNaN(after.heapUsed)
      ? '-'
      : `${mib(after.heapUsed)}/${mib(after.heapTotal)}`
    ).padStart(10),
    (Number.isNaN(after.external) ? '-' : mib(after.external)).padStart(6),
  ].join(' ');
}

function mib(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(0);
}

/**
 * A webhook this benchmark did not start (`--target`), such as a peer implementation: CPU and RSS
 * from /proc/PID (`--target-pid`), no V8 figures.
 */
function procStats(pid: number): Stats {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of stat(5), in clock ticks (USER_HZ, 100 on Linux).
  const ticks = Number(fields[11]) + Number(fields[12]);
  const rssKiB = Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
  return {
    cpuMicros: ticks * 10_000,
    rss: rssKiB * 1024,
    heapUsed: NaN,
    heapTotal: NaN,
    external: NaN,
    spaces: {},
  };
}

async function external(url: string): Promise<void> {
  const caFile = argValue('--target-ca');
  const pid = Number(argValue('--target-pid'));
  if (!caFile || !Number.isInteger(pid)) {
    process.stderr.write(`--target needs --target-ca FILE and --target-pid PID\n\n${USAGE}`);
    process.exit(2);
  }
  const target = new URL(url);
  const ready: Ready = {
    port: Number(target.port || 443),
    caPem: readFileSync(caFile, 'utf8'),
    path: target.pathname,
  };
  console.log(machineLine());
  console.log(
    `node ${process.version}, ${SECONDS}s per level, TLS keep-alive, target ${url} (pid ${pid})`,
  );
  for (const [name, pod] of podsToRun()) {
    const body = review(pod);
    console.log(`\n${name}: AdmissionReview ${(Buffer.byteLength(body) / 1024).toFixed(1)} KiB`);
    console.log(HEADER);
    for (const concurrency of LEVELS)
      console.log(await level(() => Promise.resolve(procStats(pid)), ready, body, concurrency));
  }
  const { groups } = smapsGroups(pid);
  console.log(
    `\ntarget pid ${pid} RSS by allocator (MiB): ` +
      groups.map(([kind, g]) => `${kind} ${g.rss.toFixed(1)}`).join(', '),
  );
}

function podsToRun(): (readonly [string, unknown])[] {
  return (
    [
      ['ACK demo pod', demoPod()],
      ['large pod (15 containers x 50 env)', largePod()],
    ] as const
  ).filter(([name]) => PODS === 'both' || name.startsWith(PODS === 'demo' ? 'ACK' : 'large'));
}

const HEADER = 'conc  adm/s   p50 ms   p99 ms  p999 ms  CPU  CPU/adm RSS a/max heap u/c  ext';

async function main(): Promise<void> {
  const at = process.argv.indexOf('--node-args');
  const nodeArgs = nodeArgsFrom(at > 0 ? (process.argv[at + 1] ?? '') : undefined);
  const ca = createCertificateAuthority('bench-ca');
  const cert = issueCertificate(ca, { commonName: 'bench', ipAddresses: ['127.0.0.1'] });
  const env = { ...imageEnv(), ...process.env, BENCH_CERTS: JSON.stringify({ ca, cert }) };
  const server = await bundledServer();
  const start = async (extra: string[]) => {
    const park = process.argv.includes('--no-park') ? ['--no-park'] : [];
    if (argValue('--max-admissions')) park.push('--max-admissions', argValue('--max-admissions')!);
    const child = fork(server, ['--serve', ...park, ...extra], {
      stdio: 'inherit',
      env,
      execArgv: nodeArgs,
    });
    const ready = await new Promise<Ready>((resolve) =>
      child.once('message', (m) => resolve(m as Ready)),
    );
    return { child, ready };
  };
  const first = await start(['--processes', String(PROCESSES)]);
  const children = [first.child];
  for (let i = 1; i < PROCESSES; i++)
    children.push(
      (await start(['--processes', String(PROCESSES), '--port', String(first.ready.port)])).child,
    );
  const { ready } = first;
  const child = children;
  console.log(machineLine());
  console.log(
    `node ${process.version}, ${SECONDS}s per level, TLS keep-alive, ${PROCESSES} server process(es): pid ${children.map((c) => c.pid).join(', ')}` +
      (nodeArgs.length > 0 ? ` (node ${nodeArgs.join(' ')})` : ''),
  );
  for (const [name, pod] of podsToRun()) {
    const body = review(pod);
    console.log(`\n${name}: AdmissionReview ${(Buffer.byteLength(body) / 1024).toFixed(1)} KiB`);
    console.log(HEADER);
    for (const concurrency of LEVELS)
      console.log(await level(() => stats(child), ready, body, concurrency));
  }
  // Where the last level's RSS is (the large pod at the highest concurrency), by allocator.
  for (const c of children) {
    const { groups } = smapsGroups(c.pid!);
    console.log(
      `\nserver pid ${c.pid} RSS by allocator (MiB): ` +
        groups.map(([kind, g]) => `${kind} ${g.rss.toFixed(1)}`).join(', '),
    );
  }
  const { spaces } = await stats(children);
  console.log(
    'V8 heap spaces, physical (MiB): ' +
      Object.entries(spaces)
        .filter(([, bytes]) => bytes >= 2 ** 19)
        .map(([name, bytes]) => `${name.replace(/_space$/, '')} ${mib(bytes)}`)
        .join(', '),
  );
  for (const c of children) c.send('stop');
}

/**
 * This file with the webhook it imports, bundled and minified as hack/build.ts bundles the product
 * (running src/*.ts would add Node's type-stripping WebAssembly memory to the server's RSS, which
 * no deployment carries).
 */
async function bundledServer(): Promise<string> {
  const outfile = join(import.meta.dirname, '..', '..', '.cache', 'bench-webhook', 'webhook.mjs');
  await build({
    entryPoints: [join(import.meta.dirname, 'webhook-server.ts')],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node24',
    minify: true,
    logLevel: 'warning',
    banner: {
      js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
    },
  });
  return outfile;
}

const targetUrl = argValue('--target');
await (targetUrl ? external(targetUrl) : main());

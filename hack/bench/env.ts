// Shared set-up of the benchmarks that need a cluster (controller, memory, fairness): flags and
// --help, the machine-load line, a dedicated local control plane with the CRD installed, and an
// in-process emulator with the cluster's OIDC provider.
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { createClusterOidcProvider } from '../../devenv/cloud-setup.ts';
import { startControlPlane } from '../../devenv/controlplane.ts';
import { kubectl } from '../../devenv/kubectl.ts';
import { start as startEmulator } from '@rrsa-operator/alibaba-cloud-emulator';
import { createKubeClients, loadKubeConfig } from '../../src/kube/client.ts';

export { machineLine } from './machine.ts';

export const root = join(import.meta.dirname, '..', '..');
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
export const log = (line: string): void => void process.stdout.write(`${line}\n`);

/** `--key value` and `--key=value`; prints `usage` and exits on --help / -h. */
export function parseArgs(usage: string): Map<string, string> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    process.stdout.write(usage);
    process.exit(0);
  }
  const args = new Map<string, string>();
  for (let i = 2; i < process.argv.length; i++) {
    const arg = process.argv[i]!;
    const eq = arg.indexOf('=');
    if (eq > 0) args.set(arg.slice(2, eq), arg.slice(eq + 1));
    else args.set(arg.replace(/^--/, ''), process.argv[++i] ?? '');
  }
  return args;
}

type Emulator = Awaited<ReturnType<typeof startEmulator>>;

export interface BenchEnv {
  cp: Awaited<ReturnType<typeof startControlPlane>>;
  emulator: Emulator;
  kube: ReturnType<typeof createKubeClients>;
  kubectl: (args: string[]) => Promise<unknown>;
  /** Environment for a manager child process talking to this emulator. */
  managerEnv: () => Record<string, string>;
  stop: () => Promise<void>;
}

export async function startBenchEnv(options: {
  clusterId: string;
  seed: string;
  latencyMs?: number;
  emulator?: Omit<NonNullable<Parameters<typeof startEmulator>[0]>, 'seed'>;
}): Promise<BenchEnv> {
  const cp = await startControlPlane({ repoRoot: root });
  process.env.RRSA_KUBECTL = cp.kubectl;
  const emulator = await startEmulator({ seed: options.seed, ...options.emulator });
  if (options.latencyMs)
    emulator.controls.faults.add({ service: 'ram', latencyMs: options.latencyMs });
  await createClusterOidcProvider({
    endpoint: emulator.endpoint,
    credentials: emulator.rootKey,
    clusterId: options.clusterId,
    issuerUrl: cp.issuer,
    issuerCaPem: cp.caPem,
  });
  const crds = join(root, 'crds');
  await kubectl(cp.kubeconfigPath, ['apply', '-f', crds]);
  await kubectl(cp.kubeconfigPath, ['wait', '--for=condition=Established', '-f', crds]);
  await kubectl(cp.kubeconfigPath, ['create', 'namespace', 'rrsa-system']);
  const kube = createKubeClients(loadKubeConfig(cp.kubeconfigPath));
  return {
    cp,
    emulator,
    kube,
    kubectl: (args: string[]) => kubectl(cp.kubeconfigPath, args),
    managerEnv: (): Record<string, string> => ({
      RRSA_CLUSTER_ID: options.clusterId,
      RRSA_RAM_ENDPOINT: emulator.endpoint,
      RRSA_STS_ENDPOINT: emulator.endpoint,
      RRSA_IMS_ENDPOINT: emulator.endpoint,
      RRSA_ENDPOINT_PROTOCOL: 'http',
      RRSA_LEADER_ELECT: 'false',
      ALIBABA_CLOUD_ACCESS_KEY_ID: emulator.rootKey.accessKeyId,
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: emulator.rootKey.accessKeySecret,
    }),
    stop: async () => {
      await emulator.stop();
      await cp.stop();
    },
  };
}

/** Runs `fn` over 0..count-1 with at most `limit` at a time. */
export async function inParallel(
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

/** A child process's resident and peak resident set, MiB, from /proc. */
export function processMemory(pid: number | undefined): {
  rss: number;
  peak: number;
  anon: number;
  file: number;
} {
  const status = readStatus(pid);
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) / 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM'), anon: kb('RssAnon'), file: kb('RssFile') };
}

/**
 * Established TCP connections of process `pid` to `port` (the apiserver's), from the socket
 * inodes among its file descriptors and /proc/<pid>/net/tcp{,6}.
 */
export function tcpConnectionsTo(pid: number | undefined, port: number): number {
  if (pid === undefined) return 0;
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // closed while listing
    }
  }
  let count = 0;
  for (const table of ['tcp', 'tcp6']) {
    const lines = readFileSync(`/proc/${pid}/net/${table}`, 'utf8').trim().split('\n').slice(1);
    for (const line of lines) {
      const [, , remote, state, , , , , , inode] = line.trim().split(/\s+/);
      const remotePort = parseInt(remote!.split(':')[1]!, 16);
      // 01 = ESTABLISHED
      if (state === '01' && remotePort === port && inodes.has(inode!)) count++;
    }
  }
  return count;
}

function readStatus(pid: number | undefined): string {
  try {
    return readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return '';
  }
}

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { issueCertificate } from '../src/webhook/certs/pki.ts';
import type { ControlPlane } from './controlplane.ts';
import { kubeconfigCertYaml } from './kubeconfig.ts';
import { waitFor } from './kube-http.ts';
import { findFreePort } from './ports.ts';
import { startProcess, type ManagedProcess } from './process.ts';

/**
 * The local node's network: one Linux bridge holding the node's address, pods on a /24 behind it.
 * No default route in pods and no masquerading, and IP forwarding stays off, so a pod reaches the
 * node's own address (apiserver, emulator, kubelet) and other pods, nothing off the machine.
 */
export const NODE_NETWORK = {
  bridge: 'rrsa0',
  address: '10.213.0.1',
  subnet: '10.213.0.0/24',
  podRangeStart: '10.213.0.10',
} as const;

export const NODE_NAME = 'rrsa-node';
const CNI_BIN_DIR = '/usr/lib/cni';
/** Made by hack/node/images.sh; containerd runs it as each pod's sandbox, never pulled. */
export const PAUSE_IMAGE = 'localhost/rrsa-pause:1';

export interface LocalNode {
  name: string;
  address: string;
  dir: string;
  kubeletLog: string;
  /** `ctr` against the node's containerd, in the CRI's namespace. */
  ctr(args: string[]): string;
  stop(): Promise<void>;
}

/** Fails with the fix when this machine cannot run a node (not root, runtime not installed). */
export function checkNodePrerequisites(): void {
  if (process.getuid?.() !== 0) {
    throw new Error(
      'a local node needs root (containerd, network namespaces, cgroups); run as root',
    );
  }
  const missing = ['containerd', 'runc', 'ctr', 'buildah'].filter((tool) => !commandExists(tool));
  if (!existsSync(join(CNI_BIN_DIR, 'bridge'))) missing.push(`${CNI_BIN_DIR}/bridge`);
  if (missing.length > 0) {
    throw new Error(`missing ${missing.join(', ')}: run \`bash hack/node/install.sh\` (as root)`);
  }
}

function commandExists(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Creates the bridge with the node's address (idempotent); it must exist before the apiserver binds to it. */
export function ensureNodeNetwork(): void {
  const ip = (args: string[]): void => {
    execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  };
  try {
    ip(['link', 'show', NODE_NETWORK.bridge]);
  } catch {
    ip(['link', 'add', NODE_NETWORK.bridge, 'type', 'bridge']);
  }
  const addresses = execFileSync('ip', ['-4', 'addr', 'show', 'dev', NODE_NETWORK.bridge], {
    encoding: 'utf8',
  });
  if (!addresses.includes(`inet ${NODE_NETWORK.address}/`)) {
    ip(['addr', 'add', `${NODE_NETWORK.address}/24`, 'dev', NODE_NETWORK.bridge]);
  }
  ip(['link', 'set', NODE_NETWORK.bridge, 'up']);
}

/**
 * Starts containerd (CRI, overlayfs, CNI bridge) and a kubelet registered to `cp`, imports the
 * image archives (docker-archive tars from hack/node/images.sh) and waits for the Node to be Ready.
 */
export async function startLocalNode(
  cp: ControlPlane,
  options: { binDir: string; images: string[]; timeoutMs?: number },
): Promise<LocalNode> {
  checkNodePrerequisites();
  killLeftoversOfDeadNodes();
  releaseNodeResources(join(cp.dir, 'node'));
  ensureNodeNetwork();
  const dir = join(cp.dir, 'node');
  const processes: ManagedProcess[] = [];
  const socket = join(dir, 'containerd.sock');
  const stop = async (): Promise<void> => {
    // kubelet first (it would restart what we kill), then every container while containerd
    // still answers, then containerd; then what outlives it: mounts and pod network namespaces.
    const [containerd, ...rest] = processes;
    for (const p of rest.reverse()) await p.stop(20_000);
    if (containerd?.isRunning()) killAllContainers(socket);
    await containerd?.stop(20_000);
    releaseNodeResources(dir);
  };
  try {
    const paths = writeNodeFiles(cp, dir, await findFreePort());
    const containerd = startProcess(
      'containerd',
      'containerd',
      ['--config', paths.containerdConfig],
      join(dir, 'containerd.log'),
    );
    processes.push(containerd);
    const ctr = (args: string[]): string =>
      execFileSync('ctr', ['--address', paths.containerdSocket, '--namespace', 'k8s.io', ...args], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    await waitFor(
      `containerd ready (log: ${containerd.logFile})`,
      () => {
        if (!containerd.isRunning())
          throw new Error(`containerd exited; see ${containerd.logFile}`);
        try {
          ctr(['version']);
          return true;
        } catch {
          return undefined;
        }
      },
      30_000,
    );
    for (const archive of options.images) ctr(['images', 'import', archive]);

    const kubelet = startProcess(
      'kubelet',
      join(options.binDir, 'kubelet'),
      [
        `--config=${paths.kubeletConfig}`,
        `--kubeconfig=${paths.kubeletKubeconfig}`,
        `--root-dir=${join(dir, 'kubelet')}`,
        `--cert-dir=${join(dir, 'kubelet', 'pki')}`,
        `--hostname-override=${NODE_NAME}`,
        `--node-ip=${NODE_NETWORK.address}`,
        '--v=1',
      ],
      join(dir, 'kubelet.log'),
    );
    processes.push(kubelet);
    await waitFor(
      `node ${NODE_NAME} Ready (log: ${kubelet.logFile})`,
      () => {
        if (!kubelet.isRunning()) throw new Error(`kubelet exited; see ${kubelet.logFile}`);
        try {
          const status = execFileSync(
            cp.kubectl,
            [
              '--kubeconfig',
              cp.kubeconfigPath,
              'get',
              'node',
              NODE_NAME,
              '-o',
              'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
            ],
            { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
          );
          return status === 'True' ? true : undefined;
        } catch {
          return undefined;
        }
      },
      options.timeoutMs ?? 120_000,
    );
    return {
      name: NODE_NAME,
      address: NODE_NETWORK.address,
      dir,
      kubeletLog: kubelet.logFile,
      ctr,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

interface NodeFiles {
  containerdConfig: string;
  containerdSocket: string;
  kubeletConfig: string;
  kubeletKubeconfig: string;
}

function writeNodeFiles(cp: ControlPlane, dir: string, kubeletPort: number): NodeFiles {
  const pki = join(dir, 'pki');
  const cniConf = join(dir, 'cni', 'net.d');
  for (const d of [pki, cniConf, join(dir, 'cni', 'ipam')]) mkdirSync(d, { recursive: true });
  const containerdSocket = join(dir, 'containerd.sock');
  const files: NodeFiles = {
    containerdConfig: join(dir, 'containerd.toml'),
    containerdSocket,
    kubeletConfig: join(dir, 'kubelet.yaml'),
    kubeletKubeconfig: join(dir, 'kubelet.kubeconfig'),
  };
  writeFileSync(
    files.containerdConfig,
    `version = 2
root = "${join(dir, 'containerd', 'root')}"
state = "${join(dir, 'containerd', 'state')}"
# Snapshotters and tracing this node does not use (they only log errors on this machine).
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]
[grpc]
  address = "${containerdSocket}"
[plugins."io.containerd.grpc.v1.cri"]
  # This machine denies lowering oom_score_adj (no CAP_SYS_RESOURCE); clamp to containerd's own.
  restrict_oom_score_adj = true
  sandbox_image = "${PAUSE_IMAGE}"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "${CNI_BIN_DIR}"
    conf_dir = "${cniConf}"
`,
  );
  // isGateway=false: the node's address is already on the bridge (ensureNodeNetwork), and the
  // bridge plugin would otherwise turn IP forwarding on. No default route in pods.
  writeFileSync(
    join(cniConf, '10-rrsa.conflist'),
    JSON.stringify({
      cniVersion: '0.4.0',
      name: 'rrsa-local',
      plugins: [
        {
          type: 'bridge',
          bridge: NODE_NETWORK.bridge,
          isGateway: false,
          ipMasq: false,
          hairpinMode: true,
          ipam: {
            type: 'host-local',
            ranges: [[{ subnet: NODE_NETWORK.subnet, rangeStart: NODE_NETWORK.podRangeStart }]],
            dataDir: join(dir, 'cni', 'ipam'),
          },
        },
      ],
    }),
  );

  const client = issueCertificate(cp.ca, {
    commonName: `system:node:${NODE_NAME}`,
    organizations: ['system:nodes'],
  });
  const serving = issueCertificate(cp.ca, {
    commonName: NODE_NAME,
    ipAddresses: [NODE_NETWORK.address],
    dnsNames: [NODE_NAME],
  });
  const write = (name: string, pem: string, mode = 0o644): string => {
    const path = join(pki, name);
    writeFileSync(path, pem, { mode });
    return path;
  };
  const clientCert = write('kubelet-client.crt', client.certPem);
  const clientKey = write('kubelet-client.key', client.keyPem, 0o600);
  const servingCert = write('kubelet.crt', serving.certPem);
  const servingKey = write('kubelet.key', serving.keyPem, 0o600);
  writeFileSync(
    files.kubeletKubeconfig,
    kubeconfigCertYaml({
      server: cp.server,
      caPem: cp.caPem,
      certFile: clientCert,
      keyFile: clientKey,
      user: `system:node:${NODE_NAME}`,
    }),
    { mode: 0o600 },
  );
  writeFileSync(
    files.kubeletConfig,
    JSON.stringify({
      apiVersion: 'kubelet.config.k8s.io/v1beta1',
      kind: 'KubeletConfiguration',
      address: NODE_NETWORK.address,
      port: kubeletPort,
      readOnlyPort: 0,
      healthzPort: 0,
      tlsCertFile: servingCert,
      tlsPrivateKeyFile: servingKey,
      authentication: {
        anonymous: { enabled: false },
        webhook: { enabled: true },
        x509: { clientCAFile: cp.caFile },
      },
      authorization: { mode: 'Webhook' },
      containerRuntimeEndpoint: `unix://${containerdSocket}`,
      // This machine mounts cgroup v1 and runs no systemd; the kubelet refuses v1 unless told.
      cgroupDriver: 'cgroupfs',
      failCgroupV1: false,
      failSwapOn: false,
      // A developer disk is often fuller than a server's: evict only when it is really full.
      evictionHard: {
        'memory.available': '100Mi',
        'nodefs.available': '2%',
        'imagefs.available': '2%',
      },
      imageGCHighThresholdPercent: 99,
      imageGCLowThresholdPercent: 98,
      // No cluster DNS on this node; pods resolve the cloud names through hostAliases.
      clusterDomain: 'cluster.local',
      resolvConf: '',
      podLogsDir: join(dir, 'pod-logs'),
      serializeImagePulls: false,
      registerWithTaints: [],
      syncFrequency: '10s',
      fileCheckFrequency: '10s',
      nodeStatusReportFrequency: '10s',
    }),
  );
  return files;
}

function killAllContainers(socket: string): void {
  const ctr = (args: string[]): string =>
    execFileSync('ctr', ['--address', socket, '--namespace', 'k8s.io', ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 30_000,
    });
  let tasks: string[];
  try {
    tasks = ctr(['tasks', 'ls', '-q']).split('\n').filter(Boolean);
  } catch {
    return;
  }
  for (const id of tasks) {
    try {
      ctr(['tasks', 'kill', '--all', '--signal', 'SIGKILL', id]);
    } catch {
      // already gone
    }
  }
  for (const id of tasks) {
    try {
      ctr(['tasks', 'delete', '--force', id]);
    } catch {
      // already gone
    }
  }
}

/**
 * A node whose test process was killed leaves kubelet, containerd and containerd's shims (and
 * the pods under them) running, holding pod addresses a new node would hand out again: kill
 * every process working for a local-node directory that no longer exists.
 */
/** Directories of nodes whose containerd runs (each node runs one, with its config in there). */
function liveNodeDirs(): Set<string> {
  const live = new Set<string>();
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      const dir = /^containerd --config (\S*\/rrsa-controlplane-[^/\s]+)\/node\//.exec(
        cmdline,
      )?.[1];
      if (dir) live.add(dir);
    } catch {
      // exited meanwhile
    }
  }
  return live;
}

function killLeftoversOfDeadNodes(): void {
  const pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  const parent = new Map<string, string>();
  const live = new Set<string>();
  const owned: [string, string][] = [];
  for (const pid of pids) {
    try {
      // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may hold spaces, so split after ')'.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      parent.set(pid, stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1] ?? '');
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      const dir = /(\S*\/rrsa-controlplane-[^/\s]+)\/node\//.exec(cmdline)?.[1];
      if (dir) {
        if (/^containerd --config /.test(cmdline)) live.add(dir);
        owned.push([pid, dir]);
      }
    } catch {
      // exited meanwhile
    }
  }
  // A node is dead when its containerd is: its kubelet and shims are leftovers.
  const doomed = owned.filter(([, dir]) => !live.has(dir)).map(([pid]) => pid);
  // With its shim, each container: the shim is their subreaper (parent), not containerd.
  const isDoomed = (pid: string, depth = 0): boolean =>
    doomed.includes(pid) ||
    (depth < 16 && parent.has(pid) && isDoomed(parent.get(pid) ?? '', depth + 1));
  for (const pid of pids.filter((p) => isDoomed(p))) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // gone already
    }
  }
}

/** Unmounts what the node mounted under `dir` and removes its pods' network namespaces. */
function releaseNodeResources(dir: string): void {
  // Ours, and those of nodes whose directory is gone (a killed run).
  const stale = (target: string): boolean => {
    const root = /^(\S*\/rrsa-controlplane-[^/\s]+)\/node\//.exec(target)?.[1];
    return root !== undefined && root !== dirname(dir) && !liveNodeDirs().has(root);
  };
  const mounts = readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[1] ?? '')
    .filter((target) => target.startsWith(`${dir}/`) || stale(target))
    .sort((a, b) => b.length - a.length);
  for (const target of mounts) {
    try {
      execFileSync('umount', ['-l', target], { stdio: 'ignore' });
    } catch {
      // best effort
    }
  }
  // A pod's veth on our bridge names its namespace (link-netns); containerd made it for us.
  let links: string;
  try {
    links = execFileSync('ip', ['-o', 'link', 'show', 'master', NODE_NETWORK.bridge], {
      encoding: 'utf8',
    });
  } catch {
    return;
  }
  for (const netns of new Set([...links.matchAll(/link-netns (\S+)/g)].map((m) => m[1] ?? ''))) {
    try {
      execFileSync('ip', ['netns', 'delete', netns], { stdio: 'ignore' });
    } catch {
      // best effort
    }
  }
}

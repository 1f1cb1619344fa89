import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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
  ensureNodeNetwork();
  const dir = join(cp.dir, 'node');
  const processes: ManagedProcess[] = [];
  const stop = async (): Promise<void> => {
    for (const p of [...processes].reverse()) await p.stop(20_000);
    removePodNetworkState(dir);
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
      serializeImagePulls: false,
      registerWithTaints: [],
      syncFrequency: '10s',
      fileCheckFrequency: '10s',
      nodeStatusReportFrequency: '10s',
    }),
  );
  return files;
}

/** host-local keeps IP reservations in files; a fresh node starts from an empty pool anyway. */
function removePodNetworkState(dir: string): void {
  try {
    execFileSync('rm', ['-rf', join(dir, 'cni', 'ipam')]);
  } catch {
    // best effort
  }
}

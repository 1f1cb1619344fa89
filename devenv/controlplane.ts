import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import {
  createCertificateAuthority,
  issueCertificate,
  type CertifiedKey,
} from '../src/webhook/certs/pki.ts';
import { createSigningKeyPair } from './signing-key.ts';
import { findFreePort } from './ports.ts';
import { startProcess, startOrphanReaper, type ManagedProcess } from './process.ts';
import { httpsRequest, waitFor } from './kube-http.ts';
import { kubeconfigYaml } from './kubeconfig.ts';

export interface ControlPlaneOptions {
  /** Directory holding kube-apiserver, kube-controller-manager and etcd; default: hack build. */
  binDir?: string;
  /** Also run kube-controller-manager (default ServiceAccounts, GC, namespace deletion). */
  controllerManager?: boolean;
  /** Repository root, used to find hack/controlplane/build.sh. Default: process.cwd(). */
  repoRoot?: string;
  /** Parent directory for the temporary state directory. Default: the OS temp dir. */
  tmpRoot?: string;
  startTimeoutMs?: number;
  /**
   * Serve a real node (devenv/node.ts): listen on the node's bridge address instead of loopback,
   * so pods reach the apiserver; authorize kubelets (Node authorizer + NodeRestriction); reach
   * webhook Services through their endpoints (no kube-proxy); run kube-scheduler and the
   * controllers pods need.
   */
  node?: { address: string };
}

/** Everything a client (a test worker, kubectl, the operator) needs to reach the control plane. */
export interface ControlPlaneInfo {
  server: string;
  issuer: string;
  caPem: string;
  caFile: string;
  token: string;
  kubeconfigPath: string;
  /** The kubectl built with the control plane (same version). */
  kubectl: string;
  dir: string;
}

export interface ControlPlane extends ControlPlaneInfo {
  /** The cluster CA (key included): a local node issues its kubelet certificates with it. */
  ca: CertifiedKey;
  info(): ControlPlaneInfo;
  /** Stops and starts kube-apiserver on the same port, etcd data intact. */
  restartApiServer(): Promise<void>;
  stop(): Promise<void>;
}

const ADMIN_USER = 'rrsa-admin';

export function resolveBinDir(options: ControlPlaneOptions): string {
  if (options.binDir) return options.binDir;
  if (process.env.RRSA_CONTROLPLANE_BIN_DIR) return process.env.RRSA_CONTROLPLANE_BIN_DIR;
  const script = join(options.repoRoot ?? process.cwd(), 'hack', 'controlplane', 'build.sh');
  return execFileSync('bash', [script], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
}

/**
 * Starts etcd + kube-apiserver (+ optionally kube-controller-manager) on free loopback ports,
 * configured the way controller-runtime's envtest does, plus what RRSA needs: a ServiceAccount
 * issuer with signing keys and issuer discovery readable anonymously.
 */
export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const binDir = resolveBinDir(options);
  const dir = mkdtempSync(join(options.tmpRoot ?? tmpdir(), 'rrsa-controlplane-'));
  const processes: ManagedProcess[] = [];
  const reaper = startOrphanReaper(process.pid, () => processes.map((p) => p.pid), dir);
  const timeout = options.startTimeoutMs ?? 90_000;
  try {
    const host = options.node?.address ?? '127.0.0.1';
    const files = writeCredentials(dir, host);
    const etcdPort = await findFreePort();
    const etcdPeerPort = await findFreePort();
    const apiPort = await findFreePort();
    const server = `https://${host}:${apiPort}`;
    const kubeconfigPath = join(dir, 'kubeconfig');
    writeFileSync(
      kubeconfigPath,
      kubeconfigYaml({ server, caPem: files.caPem, token: files.token, user: ADMIN_USER }),
    );

    const etcd = startProcess(
      'etcd',
      join(binDir, 'etcd'),
      etcdArgs(dir, etcdPort, etcdPeerPort),
      join(dir, 'etcd.log'),
    );
    processes.push(etcd);
    reaper.update();

    const apiArgs = apiServerArgs(dir, apiPort, etcdPort, files, {
      withControllerManager: Boolean(options.controllerManager || options.node),
      host,
      node: Boolean(options.node),
    });
    const startApi = (): ManagedProcess => {
      const p = startProcess(
        'kube-apiserver',
        join(binDir, 'kube-apiserver'),
        apiArgs,
        join(dir, 'kube-apiserver.log'),
      );
      processes.push(p);
      reaper.update();
      return p;
    };
    let apiserver = startApi();
    const waitReady = (): Promise<true> =>
      waitFor(
        `kube-apiserver ready (log: ${join(dir, 'kube-apiserver.log')})`,
        async () => {
          if (!apiserver.isRunning())
            throw new Error(`kube-apiserver exited; see ${apiserver.logFile}`);
          const res = await httpsRequest(`${server}/readyz`, {
            caPem: files.caPem,
            token: files.token,
          });
          return res.status === 200 ? true : undefined;
        },
        timeout,
      );
    await waitReady();
    await allowAnonymousIssuerDiscovery(server, files.caPem, files.token);

    if (options.controllerManager || options.node) {
      processes.push(
        startProcess(
          'kube-controller-manager',
          join(binDir, 'kube-controller-manager'),
          controllerManagerArgs(kubeconfigPath, files, Boolean(options.node)),
          join(dir, 'kube-controller-manager.log'),
        ),
      );
      reaper.update();
    }
    if (options.node) {
      processes.push(
        startProcess(
          'kube-scheduler',
          join(binDir, 'kube-scheduler'),
          [...componentArgs(kubeconfigPath), '--v=1'],
          join(dir, 'kube-scheduler.log'),
        ),
      );
      reaper.update();
    }

    const info: ControlPlaneInfo = {
      server,
      issuer: server,
      caPem: files.caPem,
      caFile: files.caFile,
      token: files.token,
      kubeconfigPath,
      kubectl: join(binDir, 'kubectl'),
      dir,
    };
    return {
      ...info,
      ca: files.ca,
      info: () => ({ ...info }),
      async restartApiServer(): Promise<void> {
        await apiserver.stop();
        apiserver = startApi();
        await waitReady();
      },
      async stop(): Promise<void> {
        await stopAll(processes);
        reaper.cancel();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    const logs = tailLogs(dir);
    await stopAll(processes);
    reaper.cancel();
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${logs}`, {
      cause: error,
    });
  }
}

async function stopAll(processes: ManagedProcess[]): Promise<void> {
  // Reverse start order: controller-manager, apiserver, then etcd.
  for (const p of [...processes].reverse()) await p.stop();
}

function tailLogs(dir: string): string {
  return ['kube-apiserver.log', 'etcd.log']
    .map((name) => {
      try {
        const lines = readFileSync(join(dir, name), 'utf8').trimEnd().split('\n');
        return `--- last lines of ${name} ---\n${lines.slice(-15).join('\n')}`;
      } catch {
        return '';
      }
    })
    .join('\n');
}

interface CredentialFiles {
  caPem: string;
  caFile: string;
  certFile: string;
  keyFile: string;
  saPublicFile: string;
  saPrivateFile: string;
  tokenFile: string;
  token: string;
  ca: CertifiedKey;
  kubeletClientCertFile: string;
  kubeletClientKeyFile: string;
}

function writeCredentials(dir: string, host: string): CredentialFiles {
  const pki = join(dir, 'pki');
  mkdirSync(pki);
  const ca = createCertificateAuthority('rrsa-local-ca');
  const serving = issueCertificate(ca, {
    commonName: 'kube-apiserver',
    // 10.0.0.1: the `kubernetes` Service's ClusterIP (first of --service-cluster-ip-range).
    ipAddresses: [...new Set(['127.0.0.1', host, '10.0.0.1'])],
    dnsNames: ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc'],
  });
  // The apiserver's identity towards kubelets (logs, exec): system:masters, as kubeadm's
  // apiserver-kubelet-client certificate was before it got its own binding.
  const kubeletClient = issueCertificate(ca, {
    commonName: 'kube-apiserver-kubelet-client',
    organizations: ['system:masters'],
  });
  const signing = createSigningKeyPair();
  const token = randomBytes(24).toString('hex');
  const files: CredentialFiles = {
    caPem: ca.certPem,
    caFile: join(pki, 'ca.crt'),
    certFile: join(pki, 'apiserver.crt'),
    keyFile: join(pki, 'apiserver.key'),
    saPublicFile: join(pki, 'sa.pub'),
    saPrivateFile: join(pki, 'sa.key'),
    tokenFile: join(pki, 'tokens.csv'),
    token,
    ca,
    kubeletClientCertFile: join(pki, 'kubelet-client.crt'),
    kubeletClientKeyFile: join(pki, 'kubelet-client.key'),
  };
  writeFileSync(files.kubeletClientCertFile, kubeletClient.certPem);
  writeFileSync(files.kubeletClientKeyFile, kubeletClient.keyPem, { mode: 0o600 });
  writeFileSync(files.caFile, ca.certPem);
  writeFileSync(files.certFile, serving.certPem);
  writeFileSync(files.keyFile, serving.keyPem, { mode: 0o600 });
  writeFileSync(files.saPublicFile, signing.publicKeyPem);
  writeFileSync(files.saPrivateFile, signing.privateKeyPem, { mode: 0o600 });
  // Static bearer token in system:masters: simpler than minting client certificates.
  writeFileSync(files.tokenFile, `${token},${ADMIN_USER},${ADMIN_USER},system:masters\n`, {
    mode: 0o600,
  });
  return files;
}

function etcdArgs(dir: string, port: number, peerPort: number): string[] {
  const client = `http://127.0.0.1:${port}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  return [
    '--name=default',
    `--data-dir=${join(dir, 'etcd')}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=default=${peer}`,
    '--unsafe-no-fsync=true',
    '--log-level=warn',
  ];
}

function apiServerArgs(
  dir: string,
  port: number,
  etcdPort: number,
  files: CredentialFiles,
  mode: { withControllerManager: boolean; host: string; node: boolean },
): string[] {
  const { withControllerManager, host, node } = mode;
  return [
    `--etcd-servers=http://127.0.0.1:${etcdPort}`,
    `--cert-dir=${join(dir, 'pki')}`,
    `--tls-cert-file=${files.certFile}`,
    `--tls-private-key-file=${files.keyFile}`,
    `--client-ca-file=${files.caFile}`,
    `--secure-port=${port}`,
    `--bind-address=${host}`,
    `--advertise-address=${host}`,
    '--service-cluster-ip-range=10.0.0.0/24',
    '--allow-privileged=true',
    node ? '--authorization-mode=Node,RBAC' : '--authorization-mode=RBAC',
    ...(node
      ? [
          '--enable-admission-plugins=NodeRestriction',
          // Webhook Services are reached at their endpoints' pod IPs: no kube-proxy needed.
          '--enable-aggregator-routing=true',
          `--kubelet-client-certificate=${files.kubeletClientCertFile}`,
          `--kubelet-client-key=${files.kubeletClientKeyFile}`,
          `--kubelet-certificate-authority=${files.caFile}`,
          '--kubelet-preferred-address-types=InternalIP',
        ]
      : []),
    `--token-auth-file=${files.tokenFile}`,
    `--service-account-issuer=https://${host}:${port}`,
    `--service-account-key-file=${files.saPublicFile}`,
    `--service-account-signing-key-file=${files.saPrivateFile}`,
    // Without kube-controller-manager nobody creates `default` ServiceAccounts, so the
    // ServiceAccount admission plugin would reject every pod (envtest does the same).
    ...(withControllerManager ? [] : ['--disable-admission-plugins=ServiceAccount']),
    '--profiling=false',
    '--shutdown-delay-duration=0s',
    '--shutdown-send-retry-after=false',
    '--v=1',
  ];
}

/** What kube-controller-manager and kube-scheduler share: one kubeconfig, loopback, no election. */
function componentArgs(kubeconfigPath: string): string[] {
  return [
    `--kubeconfig=${kubeconfigPath}`,
    `--authentication-kubeconfig=${kubeconfigPath}`,
    `--authorization-kubeconfig=${kubeconfigPath}`,
    '--bind-address=127.0.0.1',
    '--secure-port=0',
    '--leader-elect=false',
  ];
}

function controllerManagerArgs(
  kubeconfigPath: string,
  files: CredentialFiles,
  node: boolean,
): string[] {
  return [
    ...componentArgs(kubeconfigPath),
    '--use-service-account-credentials=false',
    `--root-ca-file=${files.caFile}`,
    `--service-account-private-key-file=${files.saPrivateFile}`,
    // Only the controllers a cluster without nodes needs; each one costs CPU on 2 cores. With a
    // node: PodDisruptionBudgets, Endpoints (what aggregator routing reads), pod GC,
    // kube-root-ca.crt (every pod's API volume mounts it) and node lifecycle (it lifts the
    // not-ready taint a kubelet registers with).
    `--controllers=serviceaccount,namespace,garbagecollector,deployment,replicaset,statefulset,job,cronjob,daemonset,endpointslice,clusterrole-aggregation${node ? ',endpoint,disruption,podgc,nodelifecycle,root-ca-cert-publisher' : ''}`,
    '--concurrent-gc-syncs=5',
    '--v=1',
  ];
}

/** Lets anonymous clients (such as STS) read /.well-known/openid-configuration and the JWKS. */
async function allowAnonymousIssuerDiscovery(
  server: string,
  caPem: string,
  token: string,
): Promise<void> {
  const res = await httpsRequest(
    `${server}/apis/rbac.authorization.k8s.io/v1/clusterrolebindings`,
    {
      method: 'POST',
      caPem,
      token,
      body: {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: 'rrsa-anonymous-issuer-discovery' },
        roleRef: {
          apiGroup: 'rbac.authorization.k8s.io',
          kind: 'ClusterRole',
          name: 'system:service-account-issuer-discovery',
        },
        subjects: [
          { apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'system:unauthenticated' },
        ],
      },
    },
  );
  if (res.status !== 201 && res.status !== 409) {
    throw new Error(
      `creating the issuer-discovery ClusterRoleBinding failed: ${res.status} ${res.body}`,
    );
  }
}

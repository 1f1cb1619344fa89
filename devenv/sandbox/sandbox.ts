import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { CreatePolicyRequest } from '@alicloud/ram20150501';
import { createSdkClients } from '../../src/cloud/sdk-clients.ts';
import { createCertificateAuthority } from '../../src/webhook/certs/pki.ts';
import { createClusterOidcProvider } from '../cloud-setup.ts';
import { startControlPlane, type ControlPlane } from '../controlplane.ts';
import { installCrds, kubectl } from '../kubectl.ts';
import { findFreePort } from '../ports.ts';
import { installWebhook } from '../webhook.ts';
import {
  start as startEmulator,
  type RunningEmulator,
} from '@rrsa-operator/alibaba-cloud-emulator';
import {
  startManager,
  type ManagerConfig,
  type RunningManager,
} from '../../src/manager/manager.ts';
import { createLogger } from '../../src/runtime/logger.ts';

export interface SandboxOptions {
  /** Exit after the walkthrough instead of waiting for Ctrl-C. */
  once: boolean;
  repoRoot: string;
  print: (line: string) => void;
  /** Called after the walkthrough, before teardown (tests read the live state here). */
  inspect?: (env: SandboxEnvironment) => Promise<void>;
}

export interface SandboxEnvironment {
  kubeconfigPath: string;
  emulator: RunningEmulator;
}

const CLUSTER_ID = 'c0sandbox';
const DEMO_NS = 'rrsa-demo';
const WEBHOOK_NAME = 'rrsa-operator-pod-identity';
const RAM_READ = { type: 'System', name: 'AliyunRAMReadOnlyAccess' };
const CS_READ = { type: 'System', name: 'AliyunCSReadOnlyAccess' };

interface Env {
  cp: ControlPlane;
  emulator: RunningEmulator;
  manager: RunningManager;
  dir: string;
}

/**
 * The offline sandbox: a real control plane, the cloud emulator, the operator (controller and
 * webhook) running against both, the samples applied, and the ACK RRSA demo walked end to end.
 * Every step prints what it checked; a failed check ends the walkthrough with exit code 1.
 */
export async function runSandbox(options: SandboxOptions): Promise<number> {
  const { print } = options;
  const steps: { name: string; ok: boolean }[] = [];
  const step = async (name: string, run: () => Promise<void>): Promise<void> => {
    print(`\n==> ${name}`);
    try {
      await run();
      steps.push({ name, ok: true });
    } catch (error) {
      steps.push({ name, ok: false });
      throw error;
    }
  };
  let env: Env | undefined;
  let failure: unknown;
  try {
    env = await startEnvironment(options, step);
    await walkthrough(env, options, step);
    await options.inspect?.({ kubeconfigPath: env.cp.kubeconfigPath, emulator: env.emulator });
  } catch (error) {
    failure = error;
    print(`\nFAILED: ${error instanceof Error ? error.message : String(error)}`);
  }
  print('\n==> Summary');
  for (const s of steps) print(`  ${s.ok ? '✓' : '✗'} ${s.name}`);
  if (env) {
    // With --once everything is removed right below: printing paths to it would mislead.
    if (!options.once) {
      print(`\n  kubeconfig:        export KUBECONFIG=${env.cp.kubeconfigPath}`);
      print(`  kubectl:           ${env.cp.kubectl}`);
    }
    print(`  cloud emulator:    ${env.emulator.url} (state: ${env.emulator.url}/__emulator/state)`);
    print(
      `  account root key:  ${env.emulator.rootKey.accessKeyId} / ${env.emulator.rootKey.accessKeySecret}`,
    );
    if (!options.once && failure === undefined) await waitForInterrupt(print);
    await env.manager.stop();
    await env.emulator.stop();
    await env.cp.stop();
    print('sandbox stopped; nothing left running');
  }
  return failure === undefined ? 0 : 1;
}

type Step = (name: string, run: () => Promise<void>) => Promise<void>;

async function startEnvironment(options: SandboxOptions, step: Step): Promise<Env> {
  const { print, repoRoot } = options;
  let cp!: ControlPlane;
  let emulator!: RunningEmulator;
  let manager!: RunningManager;
  const dir = await mkdtemp(join(tmpdir(), 'rrsa-sandbox-'));
  await step(
    'Start the local control plane (etcd, kube-apiserver, kube-controller-manager)',
    async () => {
      const started = Date.now();
      cp = await startControlPlane({ controllerManager: true, repoRoot });
      process.env.RRSA_KUBECTL = cp.kubectl;
      await installCrds(cp.kubeconfigPath, join(repoRoot, 'crds'));
      print(
        `  apiserver ${cp.server} (issuer ${cp.issuer}) up in ${Date.now() - started} ms; CRDs installed`,
      );
    },
  );
  await step(
    'Start the cloud emulator (RAM, STS, IMS) and enable RRSA for the cluster',
    async () => {
      emulator = await startEmulator({
        https: true,
        seed: 'sandbox',
        issuerOverrides: { [cp.issuer]: { caPem: cp.caPem } },
      });
      const providerArn = await createClusterOidcProvider({
        endpoint: emulator.endpoint,
        credentials: emulator.rootKey,
        clusterId: CLUSTER_ID,
        issuerUrl: cp.issuer,
        issuerCaPem: cp.caPem,
      });
      await createSamplePolicy(emulator);
      print(`  emulator at ${emulator.endpoint} (http and https); OIDC provider ${providerArn}`);
    },
  );
  await step(
    'Run the operator: controller + pod identity webhook (managed certificates)',
    async () => {
      await kubectl(cp.kubeconfigPath, ['create', 'namespace', 'rrsa-system']);
      const webhookPort = await findFreePort();
      await installWebhook(cp.kubeconfigPath, {
        name: WEBHOOK_NAME,
        url: `https://127.0.0.1:${webhookPort}/mutate-v1-pod`,
        caPem: createCertificateAuthority('placeholder until the operator writes its CA').certPem,
        manifestPath: join(repoRoot, 'config', 'webhook', 'mutatingwebhookconfiguration.yaml'),
      });
      // The operator authenticates with the SDK's default chain; here that is an AccessKey in env.
      process.env.ALIBABA_CLOUD_ACCESS_KEY_ID = emulator.rootKey.accessKeyId;
      process.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET = emulator.rootKey.accessKeySecret;
      const config = await sandboxConfig(cp, emulator, webhookPort);
      manager = await startManager(config, { logger: createLogger('warn') });
      print(
        `  health: http://127.0.0.1:${manager.healthPort}/readyz  metrics: http://127.0.0.1:${config.metricsPort}/metrics`,
      );
      print(`  cluster identity: ${JSON.stringify(manager.cluster)}`);
      print(`  webhook serving on https://127.0.0.1:${webhookPort}/mutate-v1-pod`);
    },
  );
  return { cp, emulator, manager, dir };
}

async function sandboxConfig(
  cp: ControlPlane,
  emulator: RunningEmulator,
  webhookPort: number,
): Promise<ManagerConfig> {
  return {
    clusterId: CLUSTER_ID,
    region: 'cn-hangzhou',
    roleNamePrefix: 'rrsa-',
    ramEndpoint: emulator.endpoint,
    stsEndpoint: emulator.endpoint,
    imsEndpoint: emulator.endpoint,
    endpointProtocol: 'http',
    vpcEndpoints: false,
    resync: 60,
    ramQps: 20,
    ramBurst: 20,
    concurrency: 4,
    allowedPolicies: [],
    deniedPolicies: [
      'System:AdministratorAccess',
      'System:*FullAccess',
      'System:AliyunSTSAssumeRoleAccess',
    ],
    allowedRoleNames: ['*'],
    allowAdoption: false,
    // The storefront sample restarts its Deployment's stale pods (config/samples/restart-stale-pods.yaml).
    allowPodRestart: true,
    namespace: 'rrsa-system',
    leaderElect: false,
    leaseDuration: 15,
    metricsPort: await findFreePort(),
    healthPort: await findFreePort(),
    kubeconfig: cp.kubeconfigPath,
    logLevel: 'warn',
    webhook: true,
    webhookPort,
    webhookCertMode: 'managed',
    webhookCertDir: '',
    webhookIpAddresses: ['127.0.0.1'],
    webhookMinTls: 'TLSv1.2',
    missingServiceAccount: 'admit',
    injectStsEnv: true,
    // Pods are told to use the emulator's STS (what sts-vpc.<region>.aliyuncs.com is in ACK).
    injectStsEndpoint: emulator.endpoint,
  };
}

/** The custom policy the external-dns sample attaches (a platform team would own it in RAM). */
async function createSamplePolicy(emulator: RunningEmulator): Promise<void> {
  const { ram } = createSdkClients(
    { region: 'cn-hangzhou', ram: emulator.endpoint, protocol: 'http' },
    emulator.rootKey,
  );
  await ram.createPolicy(
    new CreatePolicyRequest({
      policyName: 'AliyunDNSRecordWriter',
      description: 'external-dns writes records in the cluster zone',
      policyDocument: JSON.stringify({
        Version: '1',
        Statement: [{ Effect: 'Allow', Action: ['alidns:*Record*'], Resource: '*' }],
      }),
    }),
  );
}

async function walkthrough(env: Env, options: SandboxOptions, step: Step): Promise<void> {
  const { print, repoRoot } = options;
  const { cp } = env;
  const kc = (args: string[], input?: string) =>
    kubectl(cp.kubeconfigPath, args, input === undefined ? {} : { input });
  await step(
    'Apply the samples (config/samples): the ACK demo, realistic bindings (inline policy, retained role, stale-pod restart) and an AccountMapping',
    async () => {
      print((await kc(['apply', '-k', join(repoRoot, 'config', 'samples')])).stdout.trimEnd());
      // The emulator serves RAM, not Container Service: the demo also reads RAM, so that its
      // signed call can succeed and then fail when the policy goes.
      await setDemoPolicies(kc, [CS_READ, RAM_READ]);
    },
  );
  await step('Wait for every binding to be Ready', async () => {
    for (const [ns, name] of [
      [DEMO_NS, 'demo'],
      ['reports', 'report-generator'],
      ['external-dns', 'external-dns'],
      ['storefront', 'web'],
    ])
      await kc(['wait', 'pib', name!, '-n', ns!, '--for=condition=Ready', '--timeout=60s']);
    print((await kc(['get', 'podidentitybindings', '-A', '-o', 'wide'])).stdout.trimEnd());
  });
  await step(
    'Pods of the storefront Deployment: checked against what the webhook injects now',
    async () => print(`  ${await storefrontPods(kc)}`),
  );
  let injectedEnv: Record<string, string> = {};
  await step('Create the demo pod: the webhook injects the RRSA env and token volume', async () => {
    injectedEnv = await createDemoPod(kc, print);
  });
  await step(
    "Exchange the pod's token at STS and call RAM with the injected env vars",
    async () => {
      const workload = await startWorkload(env, injectedEnv, print);
      try {
        const first = await workload.call();
        print(`  signed RAM ListRoles: ${JSON.stringify(first)}`);
        if (first.ok !== true)
          throw new Error(`the call with the pod's credentials failed: ${JSON.stringify(first)}`);
        await stepRemovePolicy(kc, print);
        const second = await workload.call();
        print(`  same call after the policy was removed: ${JSON.stringify(second)}`);
        if (second.ok !== false || second.code !== 'NoPermission' || second.statusCode !== 403)
          throw new Error(`expected 403 NoPermission, got ${JSON.stringify(second)}`);
      } finally {
        workload.stop();
      }
    },
  );
}

type Kubectl = (args: string[], input?: string) => Promise<{ stdout: string }>;

/**
 * The storefront pods were created before their ServiceAccount named a role (or just after, if
 * the operator was quicker than kube-controller-manager): PodsCurrent settles as PodsCurrent, or
 * as StalePodsRestarted once the operator restarted the Deployment (no kubelet here, so the old
 * pods never give way to the new ones).
 */
async function storefrontPods(kc: Kubectl): Promise<string> {
  const settled = ['PodsCurrent', 'StalePodsRestarted'];
  const jsonpath = (path: string) => `{.status.conditions[?(@.type=="PodsCurrent")].${path}}`;
  for (let i = 0; i < 120; i++) {
    const { stdout } = await kc([
      'get',
      'pib',
      'web',
      '-n',
      'storefront',
      '-o',
      `jsonpath=${jsonpath('reason')}`,
    ]);
    if (settled.includes(stdout.trim())) {
      const report = await kc([
        'get',
        'pib',
        'web',
        '-n',
        'storefront',
        '-o',
        `jsonpath={.status.pods} ${jsonpath('reason')}: ${jsonpath('message')}`,
      ]);
      return report.stdout;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error('PodsCurrent of storefront/web did not settle within 30 s');
}

async function setDemoPolicies(
  kc: Kubectl,
  policies: { type: string; name: string }[],
): Promise<void> {
  await kc([
    'patch',
    'pib',
    'demo',
    '-n',
    DEMO_NS,
    '--type=merge',
    '-p',
    JSON.stringify({ spec: { role: { policies } } }),
  ]);
}

async function stepRemovePolicy(kc: Kubectl, print: (line: string) => void): Promise<void> {
  print(`  removing ${RAM_READ.name} from the binding (kubectl patch pib demo)...`);
  await setDemoPolicies(kc, [CS_READ]);
  for (let i = 0; i < 120; i++) {
    const { stdout } = await kc([
      'get',
      'pib',
      'demo',
      '-n',
      DEMO_NS,
      '-o',
      'jsonpath={.status.attachedPolicies[*].name}',
    ]);
    if (stdout.trim() === CS_READ.name) {
      print(`  the operator detached it: status.attachedPolicies = ${stdout.trim()}`);
      return;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error('the operator did not detach the policy within 30 s');
}

async function createDemoPod(
  kc: Kubectl,
  print: (line: string) => void,
): Promise<Record<string, string>> {
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'demo', namespace: DEMO_NS },
    spec: {
      serviceAccountName: 'demo-sa',
      restartPolicy: 'OnFailure',
      containers: [
        {
          name: 'demo',
          image: 'registry.cn-hangzhou.aliyuncs.com/acs/ack-ram-tool:1.0.0',
          args: ['rrsa', 'demo'],
        },
      ],
    },
  };
  await kc(['apply', '-f', '-'], JSON.stringify(pod));
  const stored = JSON.parse(
    (await kc(['get', 'pod', 'demo', '-n', DEMO_NS, '-o', 'json'])).stdout,
  ) as {
    spec: {
      containers: {
        env?: { name: string; value?: string }[];
        volumeMounts?: { name: string; mountPath: string }[];
      }[];
      volumes?: { name: string }[];
    };
  };
  const container = stored.spec.containers[0]!;
  const env = Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value ?? '']));
  if (!env.ALIBABA_CLOUD_ROLE_ARN)
    throw new Error('the stored pod has no ALIBABA_CLOUD_ROLE_ARN: not injected');
  print('  env:');
  for (const [name, value] of Object.entries(env)) print(`    ${name}=${value}`);
  print(
    `  volume: ${JSON.stringify(stored.spec.volumes?.find((v) => v.name === 'rrsa-oidc-token'))}`,
  );
  print(
    `  mount:  ${JSON.stringify(container.volumeMounts?.find((m) => m.name === 'rrsa-oidc-token'))}`,
  );
  return env;
}

interface Workload {
  call(): Promise<Record<string, unknown>>;
  stop(): void;
}

async function startWorkload(
  env: Env,
  injected: Record<string, string>,
  print: (line: string) => void,
): Promise<Workload> {
  const { cp, emulator, dir } = env;
  const token = (
    await kubectl(cp.kubeconfigPath, [
      'create',
      'token',
      'demo-sa',
      '-n',
      DEMO_NS,
      '--audience=sts.aliyuncs.com',
      '--duration=3600s',
    ])
  ).stdout.trim();
  const tokenFile = join(dir, 'token');
  await writeFile(tokenFile, token);
  print(`  TokenRequest for ${DEMO_NS}/demo-sa (aud sts.aliyuncs.com) written to ${tokenFile}`);
  print(`  (the kubelet would mount it at ${injected.ALIBABA_CLOUD_OIDC_TOKEN_FILE})`);
  const child = spawn(
    join(process.cwd(), 'node_modules', '.bin', 'node'),
    [join(__dirnameOf(), 'workload.ts'), emulator.endpoint],
    {
      env: {
        PATH: process.env.PATH ?? '',
        ...injected,
        ALIBABA_CLOUD_OIDC_TOKEN_FILE: tokenFile,
        NODE_EXTRA_CA_CERTS: emulator.caFile ?? '',
      },
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const lines = createInterface({ input: child.stdout });
  const pending: ((line: string) => void)[] = [];
  lines.on('line', (line) => pending.shift()?.(line));
  return {
    call: () =>
      new Promise((resolve) => {
        pending.push((line) => resolve(JSON.parse(line) as Record<string, unknown>));
        child.stdin.write('call\n');
      }),
    stop: () => child.kill('SIGTERM'),
  };
}

/** devenv/sandbox, found without import.meta (it also runs under jest's CommonJS transform). */
function __dirnameOf(): string {
  return join(process.env.RRSA_REPO_ROOT ?? process.cwd(), 'devenv', 'sandbox');
}

async function waitForInterrupt(print: (line: string) => void): Promise<void> {
  print('\nThe sandbox keeps running until Ctrl-C.');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
}

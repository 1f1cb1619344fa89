import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AlibabaRam } from '../../src/cloud/alibaba-ram.ts';
import { createSdkClients } from '../../src/cloud/sdk-clients.ts';
import { BindingController } from '../../src/controller/controller.ts';
import type { ClusterIdentity } from '../../src/controller/types.ts';
import { kubectl } from '../../devenv/kubectl.ts';
import {
  start as startEmulator,
  type RunningEmulator as Emulator,
} from '@rrsa-operator/alibaba-cloud-emulator';
import { DEFAULT_GUARDRAILS, type Guardrails } from '../../src/identity/guardrails.ts';
import { createKubeClients, loadKubeConfig, type KubeClients } from '../../src/kube/client.ts';
import { KubeEventSink } from '../../src/kube/events.ts';
import type { KubeRest } from '../../src/kube/rest.ts';
import { createLogger } from '../../src/runtime/logger.ts';
import { cloudCallHooks, createControllerMetrics } from '../../src/runtime/metrics.ts';
import { TokenBucket } from '../../src/runtime/rate-limiter.ts';
import { defaultInjectionConfig, type InjectionConfig } from '../../src/webhook/config.ts';
import { testControlPlane, uniqueName } from './cluster.ts';

export interface OperatorEnv {
  emulator: Emulator;
  /** RAM as the account root sees it, through the real SDK (for assertions and setup). */
  rootRam: AlibabaRam;
  cluster: ClusterIdentity;
  /** Clients with the cluster admin's credentials (for test setup and read-back). */
  admin: KubeClients;
  controller: BindingController;
  /** Put these labels on every binding this env's controller should see (see bindingSelector). */
  labels: Record<string, string>;
  /** The injection settings a webhook for this env's cluster uses (and the pod checks judge by). */
  injection: InjectionConfig;
  /** The running controller's metrics registry, as text. */
  metricsText(): Promise<string>;
  restartController(): Promise<void>;
  stop(): Promise<void>;
}

export interface OperatorEnvOptions {
  guardrails?: Partial<Guardrails>;
  resyncMs?: number;
  ramQps?: number;
  concurrency?: number;
  /** Turns the stale-pod checks on (with --allow-pod-restart as given). */
  podChecks?: { allowPodRestart: boolean };
  /** Sees each controller's REST client before it starts (a test may count its requests). */
  onRest?: (rest: KubeRest) => void;
}

/**
 * A controller running in this process against the shared real apiserver, authenticated as the
 * operator's ServiceAccount with exactly config/rbac (a missing permission fails the test), and
 * a fresh cloud emulator driven through the real @alicloud SDKs.
 */
export async function startOperatorEnv(options: OperatorEnvOptions = {}): Promise<OperatorEnv> {
  const cp = testControlPlane();
  const emulator = await startEmulator({ seed: uniqueName('seed') });
  const clients = (keys = emulator.rootKey) =>
    createSdkClients(
      {
        region: 'cn-hangzhou',
        ram: emulator.endpoint,
        sts: emulator.endpoint,
        ims: emulator.endpoint,
        protocol: 'http',
      },
      keys,
    );
  const clusterId = uniqueName('c');
  // Test files run in parallel against one apiserver, each with its own operator: every operator
  // only sees the bindings labelled for it, as sharded operators would in a real cluster.
  const labels = { 'rrsa.dev/test-env': clusterId };
  const cluster: ClusterIdentity = {
    clusterId,
    accountId: emulator.accountId,
    oidcProviderArn: `acs:ram::${emulator.accountId}:oidc-provider/ack-rrsa-${clusterId}`,
    issuerUrl: cp.issuer,
    roleNamePrefix: 'rrsa-',
  };
  const operatorKubeconfig = await operatorCredentials(
    cp.kubeconfigPath,
    cp.server,
    cp.caPem,
    cp.dir,
  );
  const admin = createKubeClients(loadKubeConfig(cp.kubeconfigPath));
  const injection = defaultInjectionConfig({
    accountId: cluster.accountId,
    clusterId,
    oidcProviderArn: cluster.oidcProviderArn,
    stsEnv: { enabled: true, region: 'cn-hangzhou', vpcEndpoint: true },
  });
  let metrics = createControllerMetrics();
  const makeController = () => {
    const kube = createKubeClients(loadKubeConfig(operatorKubeconfig));
    options.onRest?.(kube.rest);
    metrics = createControllerMetrics();
    const limiter = new TokenBucket({ qps: options.ramQps ?? 200, burst: 50 });
    return new BindingController({
      kube,
      cluster,
      guardrails: { ...DEFAULT_GUARDRAILS, ...options.guardrails },
      ram: new AlibabaRam(clients().ram, cloudCallHooks(metrics, limiter)),
      events: new KubeEventSink(kube.rest),
      logger: createLogger('error', true),
      resyncMs: options.resyncMs ?? 60_000,
      concurrency: options.concurrency ?? 4,
      metrics,
      backoff: { baseMs: 50, maxMs: 2000 },
      bindingSelector: `rrsa.dev/test-env=${clusterId}`,
      ...(options.podChecks ? { podChecks: { injection, ...options.podChecks } } : {}),
    });
  };
  let controller = makeController();
  await controller.start();
  const env: OperatorEnv = {
    emulator,
    rootRam: new AlibabaRam(clients().ram),
    cluster,
    admin,
    labels,
    injection,
    metricsText: () => metrics.registry.metrics(),
    get controller() {
      return controller;
    },
    restartController: async () => {
      await controller.stop();
      controller = makeController();
      await controller.start();
    },
    stop: async () => {
      await controller.stop();
      await emulator.stop();
    },
  };
  return env;
}

/** Applies config/rbac and returns a kubeconfig holding a token of rrsa-system/rrsa-operator. */
export async function operatorCredentials(
  adminKubeconfig: string,
  server: string,
  caPem: string,
  dir: string,
): Promise<string> {
  const ns = (
    await kubectl(adminKubeconfig, [
      'create',
      'namespace',
      'rrsa-system',
      '--dry-run=client',
      '-o',
      'yaml',
    ])
  ).stdout;
  await kubectl(adminKubeconfig, ['apply', '-f', '-'], { input: ns });
  await kubectl(adminKubeconfig, ['apply', '-k', 'config/rbac']);
  const token = (
    await kubectl(adminKubeconfig, [
      'create',
      'token',
      'rrsa-operator',
      '-n',
      'rrsa-system',
      '--duration=3h',
    ])
  ).stdout.trim();
  const path = join(dir, `operator-${uniqueName('kc')}.kubeconfig`);
  const kubeconfig = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'local',
        cluster: { server, 'certificate-authority-data': Buffer.from(caPem).toString('base64') },
      },
    ],
    users: [{ name: 'rrsa-operator', user: { token } }],
    contexts: [{ name: 'operator', context: { cluster: 'local', user: 'rrsa-operator' } }],
    'current-context': 'operator',
  };
  await writeFile(path, JSON.stringify(kubeconfig));
  return path;
}

export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 20_000,
): Promise<T> {
  const started = Date.now();
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() - started > timeoutMs)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`,
      );
    await new Promise((r) => setTimeout(r, 100));
  }
}

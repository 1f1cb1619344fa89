import { hostname } from 'node:os';
import { describeApiError } from '../kube/api-errors.ts';
import { join } from 'node:path';
import { AlibabaRam } from '../cloud/alibaba-ram.ts';
import { AlibabaIms, AlibabaSts } from '../cloud/alibaba-sts-ims.ts';
import { createSdkClients } from '../cloud/sdk-clients.ts';
import { multiAccountOptions } from './multi-account.ts';
import { resolveClusterIdentity } from '../config/cluster-identity.ts';
import type { RawConfig } from '../config/load.ts';
import { BindingController } from '../controller/controller.ts';
import type { ClusterIdentity } from '../controller/types.ts';
import type { Guardrails } from '../identity/guardrails.ts';
import { DEFAULT_DENIED_ACTIONS } from '../identity/policy-grants.ts';
import { connectKube } from '../kube/connect.ts';
import { logInformerError } from '../kube/informer.ts';
import { namespaceInformer } from '../kube/namespaces.ts';
import { serviceAccountInformer } from '../kube/service-accounts.ts';
import { KubeEventSink } from '../kube/events.ts';
import { LeaderElector } from '../kube/leader-election.ts';
import {
  startPodIdentityWebhook,
  type PodIdentityWebhook,
  type PodIdentityWebhookConfig,
} from '../kube/webhook-wiring.ts';
import { defaultInjectionConfig } from '../webhook/config.ts';
import { HealthServer } from '../runtime/health.ts';
import { createLogger, levelled, type Logger } from '../runtime/logger.ts';
import {
  cloudCallHooks,
  collectProcessMetrics,
  createControllerMetrics,
} from '../runtime/metrics.ts';
import { TokenBucket } from '../runtime/rate-limiter.ts';
import { systemClock } from '../runtime/clock.ts';
import { processHeapScavenger } from '../runtime/heap-scavenger.ts';

/** The manager's settings, typed (src/config/options.ts declares and validates them). */
export interface ManagerConfig {
  clusterId: string;
  region: string;
  accountId?: string;
  oidcProviderArn?: string;
  issuerUrl?: string;
  roleNamePrefix: string;
  ramEndpoint?: string;
  stsEndpoint?: string;
  imsEndpoint?: string;
  endpointProtocol: 'https' | 'http';
  vpcEndpoints: boolean;
  resync: number;
  ramQps: number;
  ramBurst: number;
  concurrency: number;
  allowedPolicies: string[];
  deniedPolicies: string[];
  /** Optional for hand-built configs (the sandbox); loadConfig always fills it. */
  deniedActions?: string[];
  allowedRoleNames: string[];
  allowAdoption: boolean;
  /** Optional for hand-built configs (the sandbox): pod checks on, restarts off. */
  podChecks?: boolean;
  allowPodRestart?: boolean;
  bindingSelector?: string;
  namespace: string;
  leaderElect: boolean;
  leaseDuration: number;
  metricsPort: number;
  healthPort: number;
  kubeconfig?: string;
  logLevel: string;
  webhook: boolean;
  webhookPort: number;
  webhookCertMode: 'managed' | 'files';
  webhookCertDir: string;
  webhookIpAddresses: string[];
  webhookMinTls: 'TLSv1.2' | 'TLSv1.3';
  missingServiceAccount: 'admit' | 'reject';
  injectStsEnv: boolean;
  injectStsEndpoint?: string;
  /**
   * Share RAM tokens round-robin between namespaces (default true). Not a flag: false (one FIFO)
   * exists for the fairness benchmark's comparison, which starts the manager in process.
   */
  ramFairQueuing?: boolean;
  /** Watch AccountMappings (roles in other accounts); default true. */
  accountMappings?: boolean;
  issuerCaFile?: string;
}

export function toManagerConfig(raw: RawConfig): ManagerConfig {
  return raw as unknown as ManagerConfig;
}

export interface RunningManager {
  cluster: ClusterIdentity;
  healthPort: number;
  webhookPort: number | undefined;
  isLeader(): boolean;
  stop(): Promise<void>;
}

/**
 * One process: the controller (on the Lease holder only, when leader election is on) with its
 * informers, metrics and health servers. Start-up fails fast with a message when the cloud
 * identity cannot be resolved (wrong cluster id, RRSA not enabled, missing permission).
 */
export async function startManager(
  config: ManagerConfig,
  options: { logger?: Logger; onLostLeadership?: () => void } = {},
): Promise<RunningManager> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const metrics = createControllerMetrics();
  collectProcessMetrics(metrics.registry);
  const limiter = new TokenBucket({
    qps: config.ramQps,
    burst: config.ramBurst,
    fair: config.ramFairQueuing ?? true,
  });
  const endpoints = {
    region: config.region,
    ram: config.ramEndpoint,
    sts: config.stsEndpoint,
    ims: config.imsEndpoint,
    vpcEndpoints: config.vpcEndpoints,
    protocol: config.endpointProtocol,
  };
  const sdk = createSdkClients(endpoints);
  const hooks = cloudCallHooks(metrics, limiter);
  const cluster = await resolveClusterIdentity(config, {
    sts: new AlibabaSts(sdk.sts, hooks),
    ims: new AlibabaIms(sdk.ims, hooks),
  });
  logger.info('cluster identity', { ...cluster });
  const multiAccount =
    (config.accountMappings ?? true)
      ? multiAccountOptions({
          endpoints,
          homeSts: new AlibabaSts(sdk.sts, hooks),
          hooksFor: (accountLimiter) => cloudCallHooks(metrics, accountLimiter),
          limiter: {
            qps: config.ramQps,
            burst: config.ramBurst,
            fair: config.ramFairQueuing ?? true,
          },
          issuerUrl: cluster.issuerUrl,
          issuerCaFile: config.issuerCaFile,
        })
      : undefined;
  const kube = await connectKube(config.kubeconfig);
  const guardrails: Guardrails = {
    allowedPolicies: config.allowedPolicies,
    deniedPolicies: config.deniedPolicies,
    deniedActions: config.deniedActions ?? [...DEFAULT_DENIED_ACTIONS],
    allowedRoleNames: config.allowedRoleNames,
    allowAdoption: config.allowAdoption,
  };
  // One ServiceAccount cache for the controller and the webhook (10k ServiceAccounts held once).
  // Started by whichever needs it first: the webhook on every replica, the controller on the leader.
  const serviceAccounts = serviceAccountInformer(kube, {
    onEvent: (_event, sa) => controller.onServiceAccountEvent(sa),
    onError: logInformerError(levelled(logger), 'ServiceAccount'),
  });
  let serviceAccountsStarted: Promise<void> | undefined;
  const startServiceAccounts = (): Promise<void> =>
    (serviceAccountsStarted ??= serviceAccounts.start());
  // One metadata-only Namespace cache the same way: the webhook's opt-in and override labels,
  // and the controller's Ready message, account routing and pod checks. Its label changes
  // re-queue the namespace's bindings (a no-op until the controller runs).
  const namespaces = namespaceInformer(kube, {
    onEvent: (event, ns, previous) => controller.onNamespaceEvent(event, ns, previous),
    onError: logInformerError(levelled(logger), 'Namespace'),
  });
  let namespacesStarted: Promise<void> | undefined;
  const startNamespaces = (): Promise<void> => (namespacesStarted ??= namespaces.start());
  const controller = new BindingController({
    serviceAccounts,
    namespaces,
    kube,
    cluster,
    guardrails,
    ram: new AlibabaRam(sdk.ram, hooks),
    events: new KubeEventSink(kube.rest, {
      onError: (error) => logger.debug('event not written', { error: describeApiError(error) }),
    }),
    logger,
    resyncMs: config.resync * 1000,
    ramQps: config.ramQps,
    concurrency: config.concurrency,
    metrics,
    bindingSelector: config.bindingSelector,
    // The webhook's own injection settings: pods are judged against what it injects.
    podChecks:
      config.podChecks === false
        ? undefined
        : {
            injection: webhookConfig(config, cluster, logger).injection,
            allowPodRestart: config.allowPodRestart === true,
          },
    multiAccount,
  });
  const health = new HealthServer(metrics.registry);
  let controllerRunning = false;
  health.addReadyCheck('controller-synced', () => !controllerRunning || controller.hasSynced());
  const healthPort = await health.listen(config.healthPort);
  const metricsServer =
    config.metricsPort === config.healthPort ? undefined : new HealthServer(metrics.registry);
  await metricsServer?.listen(config.metricsPort);

  let webhook: PodIdentityWebhook | undefined;
  if (config.webhook) {
    await Promise.all([startServiceAccounts(), startNamespaces()]);
    webhook = await startPodIdentityWebhook(kube, metrics.registry, {
      ...webhookConfig(config, cluster, logger),
      serviceAccounts,
      namespaces,
    });
  }
  health.addReadyCheck('webhook-serving', () => webhook === undefined || webhook.server.isReady());

  const startController = async (): Promise<void> => {
    controllerRunning = true;
    await Promise.all([startServiceAccounts(), startNamespaces()]);
    await controller.start();
    logger.info('controller started');
  };
  let elector: LeaderElector | undefined;
  if (config.leaderElect) {
    elector = new LeaderElector({
      rest: kube.rest,
      namespace: config.namespace,
      name: 'rrsa-operator-leader',
      identity: `${hostname()}_${process.pid}`,
      leaseDurationMs: config.leaseDuration * 1000,
      renewDeadlineMs: config.leaseDuration * 666,
      retryPeriodMs: Math.max(500, config.leaseDuration * 133),
      onStartedLeading: () => {
        logger.info('became leader');
        startController().catch((error: unknown) =>
          logger.error('controller failed', { error: describeApiError(error) }),
        );
      },
      onStoppedLeading: () => {
        logger.warn('lost leadership');
        options.onLostLeadership?.();
      },
      onError: (error) => logger.warn('leader election', { error: describeApiError(error) }),
    });
    elector.start();
  } else {
    await startController();
  }
  // Freed heap pages go back to the OS after a burst (ADR 0019); only with `--expose-gc`.
  const MiB = 2 ** 20;
  const scavenger = processHeapScavenger(systemClock, ({ before, after, pauseMs }) =>
    logger.debug('heap pages returned', {
      committedMiB: Math.round(before.committed / MiB),
      afterMiB: Math.round(after.committed / MiB),
      pauseMs: Math.round(pauseMs),
    }),
  );
  scavenger?.start();
  return {
    cluster,
    healthPort,
    webhookPort: webhook?.server.port,
    isLeader: () => (elector ? elector.isLeader() : true),
    stop: async () => {
      scavenger?.stop();
      limiter.close();
      multiAccount?.close();
      if (controllerRunning) await controller.stop();
      await elector?.stop(true);
      await webhook?.stop();
      if (serviceAccountsStarted) await serviceAccounts.stop();
      if (namespacesStarted) await namespaces.stop();
      await metricsServer?.close();
      await health.close();
      logger.info('manager stopped');
    },
  };
}

function webhookConfig(
  config: ManagerConfig,
  cluster: ClusterIdentity,
  logger: Logger,
): PodIdentityWebhookConfig {
  return {
    port: config.webhookPort,
    minTlsVersion: config.webhookMinTls,
    missingServiceAccount: config.missingServiceAccount,
    injection: defaultInjectionConfig({
      accountId: cluster.accountId,
      clusterId: cluster.clusterId,
      oidcProviderArn: cluster.oidcProviderArn,
      excludedNamespaces: ['kube-system', config.namespace],
      stsEnv: {
        enabled: config.injectStsEnv,
        region: config.region,
        vpcEndpoint: true,
        ...(config.injectStsEndpoint ? { endpoint: config.injectStsEndpoint } : {}),
      },
    }),
    certificates:
      config.webhookCertMode === 'files'
        ? {
            mode: 'files',
            certFile: join(config.webhookCertDir, 'tls.crt'),
            keyFile: join(config.webhookCertDir, 'tls.key'),
          }
        : { mode: 'managed', namespace: config.namespace, ipAddresses: config.webhookIpAddresses },
    log: levelled(logger),
  };
}

import type { V1Namespace, V1ServiceAccount } from '@kubernetes/client-node';
import {
  NamespaceClient,
  namespaceInformer,
  namespaceLabels,
  namespaceOptIn,
} from '../kube/namespaces.ts';
import { INJECTION_LABEL } from '../webhook/constants.ts';
import { describeApiError } from '../kube/api-errors.ts';
import { GROUP, PLURAL, VERSION, type PodIdentityBinding } from '../api/types.ts';
import type { RamPort } from '../cloud/ports.ts';
import type { Guardrails } from '../identity/guardrails.ts';
import {
  BY_SERVICE_ACCOUNT,
  bindingsByServiceAccount,
  KubeBindingStore,
  serviceAccountKey,
} from '../kube/binding-store.ts';
import { projectBinding } from './binding-projection.ts';
import type { KubeConnection } from '../kube/connect.ts';
import type { EventSink } from '../kube/events.ts';
import {
  logInformerError,
  startResilientInformer,
  type InformerEvent,
  type ResilientInformer,
} from '../kube/informer.ts';
import { KubeServiceAccountStore } from '../kube/service-account-store.ts';
import { ServiceAccountClient, serviceAccountInformer } from '../kube/service-accounts.ts';
import { levelled, type Logger } from '../runtime/logger.ts';
import type { ControllerMetrics } from '../runtime/metrics.ts';
import { runInFlow } from '../runtime/flow.ts';
import { runWorkers } from '../runtime/workers.ts';
import { WorkQueue, type BackoffOptions } from '../runtime/workqueue.ts';
import type { AccountMapping } from '../api/account-mapping.ts';
import type { AccountClients } from '../cloud/account-clients.ts';
import { accountMappingInformer } from '../kube/account-mappings.ts';
import { AccountRouter } from './account-router.ts';
import { keysForNamespace } from './namespace-triggers.ts';
import { BindingReconciler } from './reconciler.ts';
import { startPodChecks, type PodChecksOptions, type RunningPodChecks } from './pods/wiring.ts';
import { readsPerCheck, resyncPeriodMs } from './resync.ts';
import {
  bindingFingerprint,
  bindingKey,
  keysForBinding,
  keysForServiceAccount,
  parseBindingKey,
} from './triggers.ts';
import type { ClusterIdentity } from './types.ts';

export interface BindingControllerOptions {
  kube: KubeConnection;
  cluster: ClusterIdentity;
  guardrails: Guardrails;
  ram: RamPort;
  events: EventSink;
  logger: Logger;
  resyncMs: number;
  /** The RAM rate limit: with it, the resync period stretches so drift checks use at most half. */
  ramQps?: number | undefined;
  concurrency: number;
  metrics?: ControllerMetrics | undefined;
  backoff?: BackoffOptions | undefined;
  /**
   * Only bindings with these labels (a label selector such as `shard=a`): lets several operators
   * share a cluster (sharding, canaries, and tests that run one operator per test file).
   */
  bindingSelector?: string | undefined;
  /** A ServiceAccount informer shared with the webhook; started here when not given. */
  serviceAccounts?: ResilientInformer<V1ServiceAccount> | undefined;
  /**
   * The metadata-only Namespace informer shared with the webhook (the manager owns it and calls
   * onNamespaceEvent); started here, with its own events wired, when not given.
   */
  namespaces?: ResilientInformer<V1Namespace> | undefined;
  /** Stale-pod detection (and the opt-in restarts); off when not given. */
  podChecks?: PodChecksOptions | undefined;
  /** Roles in other accounts (AccountMapping, docs/adr/0014); absent: the cluster's account only. */
  multiAccount?: MultiAccountOptions | undefined;
}

export interface MultiAccountOptions {
  accounts: AccountClients;
  issuerFingerprint: () => Promise<string>;
}

/**
 * Informers (bindings, ServiceAccounts, Namespaces) feed a work queue; workers run the
 * reconciler. Every binding is queued on start (the informer's initial list) and again after each
 * resync period, so drift made in the console is repaired without any Kubernetes event.
 */
export class BindingController {
  readonly #o: BindingControllerOptions;
  readonly #queue: WorkQueue;
  readonly #bindings: ResilientInformer<PodIdentityBinding>;
  readonly #serviceAccounts: ResilientInformer<V1ServiceAccount>;
  readonly #ownsServiceAccountInformer: boolean;
  readonly #namespaces: ResilientInformer<V1Namespace>;
  readonly #ownsNamespaceInformer: boolean;
  readonly #reconciler: Pick<BindingReconciler, 'reconcile'>;
  readonly #mappings: ResilientInformer<AccountMapping> | undefined;
  readonly #podChecks: RunningPodChecks | undefined;
  #workers: Promise<void> | undefined;
  #bindingCount = 0;
  /** What one round of drift checks costs in RAM reads (sum of readsPerCheck over bindings). */
  #readsPerRound = 0;
  /** Per binding: the last fingerprint seen (status-only updates are not queued), its reads. */
  readonly #seen = new Map<string, { fingerprint: string; reads: number }>();

  constructor(options: BindingControllerOptions) {
    this.#o = options;
    const { kube, logger, metrics } = options;
    this.#queue = new WorkQueue({
      ...(options.backoff ? { backoff: options.backoff } : {}),
      maxPerFlow: maxWorkersPerNamespace(options.concurrency),
    });
    this.#queue.onAdd = () => {
      metrics?.queueAdds.inc();
      metrics?.queueDepth.set(this.#queue.len());
    };
    // Custom objects arrive as plain JSON (string timestamps).
    this.#bindings = startResilientInformer<PodIdentityBinding>({
      name: 'podidentitybindings',
      rest: kube.rest,
      path: `/apis/${GROUP}/${VERSION}/${PLURAL}`,
      project: projectBinding,
      indexes: { [BY_SERVICE_ACCOUNT]: bindingsByServiceAccount },
      ...(options.bindingSelector ? { labelSelector: options.bindingSelector } : {}),
      onEvent: (event, object) => {
        if (event === 'add') this.#bindingCount++;
        if (event === 'delete') this.#bindingCount--;
        const binding = object;
        const key = bindingKey(binding.metadata.namespace, binding.metadata.name);
        const fingerprint = bindingFingerprint(binding);
        const seen = this.#seen.get(key);
        if (event === 'update' && seen?.fingerprint === fingerprint) return;
        if (event === 'delete')
          this.#podChecks?.onBindingDeleted(binding.metadata.namespace, binding.metadata.name);
        this.#readsPerRound -= seen?.reads ?? 0;
        if (event === 'delete') this.#seen.delete(key);
        else {
          const reads = readsPerCheck(binding);
          this.#readsPerRound += reads;
          this.#seen.set(key, { fingerprint, reads });
        }
        for (const key of keysForBinding(
          binding,
          this.#bindingsOf(binding.metadata.namespace, binding.spec?.serviceAccountName ?? ''),
        )) {
          this.#queue.add(key);
          this.#podChecks?.enqueue(key);
        }
      },
      onError: logInformerError(levelled(logger), 'binding'),
    });
    this.#ownsServiceAccountInformer = options.serviceAccounts === undefined;
    this.#serviceAccounts =
      options.serviceAccounts ??
      serviceAccountInformer(kube, {
        onEvent: (_event, sa) => this.onServiceAccountEvent(sa),
        onError: logInformerError(levelled(logger), 'ServiceAccount'),
      });
    this.#ownsNamespaceInformer = options.namespaces === undefined;
    this.#namespaces =
      options.namespaces ??
      namespaceInformer(kube, {
        onEvent: (event, ns, previous) => this.onNamespaceEvent(event, ns, previous),
        onError: logInformerError(levelled(logger), 'Namespace'),
      });
    // Every namespace read of a pass (opt-in, routing, pod checks) is a cache read.
    const namespaces = new NamespaceClient(kube.rest, this.#namespaces);
    this.#podChecks =
      options.podChecks &&
      startPodChecks({
        ...options.podChecks,
        kube,
        bindings: this.#bindings,
        serviceAccounts: this.#serviceAccounts,
        namespaces,
        events: options.events,
        logger,
        resyncMs: options.resyncMs,
        staleGauge: metrics?.stalePods,
        backoff: options.backoff,
      });
    const deps: ConstructorParameters<typeof BindingReconciler>[0] = {
      cluster: options.cluster,
      guardrails: options.guardrails,
      ram: options.ram,
      bindings: new KubeBindingStore(kube.rest, this.#bindings),
      serviceAccounts: new KubeServiceAccountStore(
        new ServiceAccountClient(kube.rest, this.#serviceAccounts),
      ),
      events: options.events,
      namespaces: namespaceOptIn(namespaces, INJECTION_LABEL),
      // The first pod verdict rides on the reconciler's own status write (one write, not two).
      ...(this.#podChecks ? { podVerdict: this.#podChecks.verdicts } : {}),
      now: () => new Date(),
      // 0.9: the resync pass, queued one period after the last check, must find it stale.
      ramFreshMs: () => 0.9 * options.resyncMs,
      resyncMs: () => {
        const periodMs =
          options.ramQps === undefined
            ? options.resyncMs
            : resyncPeriodMs({
                configuredMs: options.resyncMs,
                bindings: this.#bindingCount,
                reads: this.#readsPerRound,
                ramQps: options.ramQps,
              });
        metrics?.resyncPeriod.set(periodMs / 1000);
        return periodMs;
      },
    };
    const multi = options.multiAccount;
    this.#mappings = multi
      ? accountMappingInformer(kube, {
          // A mapping change may move any namespace: every binding is looked at again.
          onChange: () => {
            for (const b of this.#bindings.list())
              this.#queue.add(bindingKey(b.metadata.namespace, b.metadata.name));
          },
          onError: logInformerError(levelled(logger), 'AccountMapping'),
        })
      : undefined;
    const mappings = this.#mappings;
    this.#reconciler =
      multi && mappings
        ? new AccountRouter({
            home: deps,
            mappings: () => mappings.list(),
            namespaceLabels: namespaceLabels(namespaces),
            accounts: multi.accounts,
            issuerFingerprint: multi.issuerFingerprint,
          })
        : new BindingReconciler(deps);
  }

  /** The cached bindings naming one ServiceAccount (an index lookup, not a namespace scan). */
  #bindingsOf(namespace: string, serviceAccountName: string): readonly PodIdentityBinding[] {
    return this.#bindings.byIndex(
      BY_SERVICE_ACCOUNT,
      serviceAccountKey(namespace, serviceAccountName),
    );
  }

  /** Called for ServiceAccount events (also when the informer is shared with the webhook). */
  onServiceAccountEvent(sa: V1ServiceAccount): void {
    const namespace = sa.metadata?.namespace ?? '';
    const name = sa.metadata?.name ?? '';
    for (const key of keysForServiceAccount(namespace, name, this.#bindingsOf(namespace, name))) {
      this.#queue.add(key);
      this.#podChecks?.enqueue(key);
    }
  }

  /**
   * Called for Namespace events (also when the informer is shared with the webhook): a label
   * change re-queues the namespace's bindings, so Ready's opt-in message, the account a mapping
   * routes them to and the pod verdict follow it now, not at the next resync.
   */
  onNamespaceEvent(event: InformerEvent, ns: V1Namespace, previous?: V1Namespace): void {
    const namespace = ns.metadata?.name ?? '';
    for (const key of keysForNamespace(
      event,
      ns.metadata?.labels,
      previous?.metadata?.labels,
      this.#bindings.list(namespace),
    )) {
      this.#queue.add(key);
      this.#podChecks?.enqueue(key);
    }
  }

  hasSynced(): boolean {
    return (
      this.#bindings.hasSynced() &&
      this.#serviceAccounts.hasSynced() &&
      this.#namespaces.hasSynced() &&
      (this.#podChecks?.hasSynced() ?? true) &&
      (this.#mappings?.hasSynced() ?? true)
    );
  }

  async start(): Promise<void> {
    if (this.#ownsServiceAccountInformer) await this.#serviceAccounts.start();
    // Before bindings: the first passes read namespaces from the cache, not one GET each.
    if (this.#ownsNamespaceInformer) await this.#namespaces.start();
    // Mappings first: a binding reconciled before them would be judged against none.
    await this.#mappings?.start();
    // Pods before bindings: a binding's first pod check should see every pod, not an empty cache.
    await this.#podChecks?.start();
    await this.#bindings.start();
    const { logger, metrics, concurrency } = this.#o;
    this.#workers = runWorkers(
      this.#queue,
      concurrency,
      async (key, signal) => {
        const { namespace, name } = parseBindingKey(key);
        return runInFlow(namespace, () => this.#reconciler.reconcile(namespace, name, signal));
      },
      {
        onResult: (key, result, durationMs, error) => {
          metrics?.reconciles.inc({ result });
          metrics?.reconcileDuration.observe(durationMs / 1000);
          metrics?.queueDepth.set(this.#queue.len());
          if (result === 'error') {
            const reason = errorReason(error);
            metrics?.reconcileErrors.inc({ reason });
            metrics?.queueRetries.inc();
            // A stale cached object is optimistic concurrency working, and a closed rate limiter
            // is the shutdown: neither is a problem to report.
            const level =
              reason === 'StaleObjectError' || reason === 'LimiterClosedError' ? 'debug' : 'warn';
            logger.log(level, 'reconcile failed; retrying', {
              binding: key,
              error: describeApiError(error),
            });
          } else {
            logger.debug('reconciled', { binding: key, durationMs: Math.round(durationMs) });
          }
        },
      },
    );
  }

  /** Finishes in-flight reconciles, then stops watching. */
  async stop(): Promise<void> {
    await this.#queue.shutDownWithDrain();
    await this.#workers;
    await this.#podChecks?.stop();
    await this.#bindings.stop();
    await this.#mappings?.stop();
    if (this.#ownsServiceAccountInformer) await this.#serviceAccounts.stop();
    if (this.#ownsNamespaceInformer) await this.#namespaces.stop();
  }
}

/**
 * One namespace may hold all workers but one in eight (at least one, from 4 workers up): a
 * tenant whose bindings keep failing cannot occupy every worker, so another tenant's binding gets
 * one at once. A lone busy namespace loses at most that share of throughput; below 4 workers
 * there is nothing to spare.
 */
export function maxWorkersPerNamespace(concurrency: number): number {
  if (concurrency < 4) return Math.max(1, concurrency);
  return concurrency - Math.max(1, Math.floor(concurrency / 8));
}

function errorReason(error: unknown): string {
  if (error !== null && typeof error === 'object') {
    if ('code' in error && typeof error.code === 'string') return error.code;
    if ('name' in error && typeof error.name === 'string') return error.name;
  }
  return 'Unknown';
}

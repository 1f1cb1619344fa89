import { ConditionType, type PodCounts, type PodIdentityBinding } from '../../api/types.ts';
import type { EventSink } from '../../kube/events.ts';
import type { OwnerRef, PodView } from '../../kube/pod-view.ts';
import type { InjectionConfig } from '../../webhook/config.ts';
import type { Namespace, ServiceAccount } from '../../webhook/types.ts';
import { sameJson } from '../../identity/trust-policy.ts';
import { holderAmong } from '../conflicts.ts';
import { involvedObject } from '../involved.ts';
import type { BindingStore } from '../types.ts';
import type { ExpectedIdentity } from './classify.ts';
import {
  isRestartable,
  podsCondition,
  workloadLabel,
  type RestartMode,
  type StalePod,
  type Workload,
} from './report.ts';
import {
  RESTARTED_AT_ANNOTATION,
  RESTARTED_FOR_ANNOTATION,
  RestartBudget,
  identityHash,
  planRestarts,
} from './restart-plan.ts';
import { podsTransition, runningPodsOf, tallyPods, withPodsVerdict } from './verdict.ts';

/** The workload side (src/kube/pods.ts WorkloadClient implements it). */
export interface WorkloadPort {
  replicaSetOwner(namespace: string, name: string): Promise<OwnerRef | undefined>;
  annotations(ref: Workload & { namespace: string }): Promise<Record<string, string> | undefined>;
  patch(
    ref: Workload & { namespace: string },
    annotations: Record<string, string>,
    templateAnnotations: Record<string, string>,
  ): Promise<void>;
}

export interface PodChecksDeps {
  bindings: BindingStore;
  /** From the shared ServiceAccount cache (webhook shape: metadata with annotations). */
  serviceAccount(namespace: string, name: string): ServiceAccount | undefined;
  /** The namespace's labels (webhook shape); throws when it cannot be read. */
  namespace(name: string): Promise<Namespace | undefined>;
  /** The cached pods of one ServiceAccount (an index lookup: no namespace scan per check). */
  pods: {
    ofServiceAccount(namespace: string, serviceAccountName: string): readonly PodView[];
    hasSynced(): boolean;
  };
  workloads: WorkloadPort;
  events: EventSink;
  /** The webhook's own configuration: the pods are judged against what it injects. */
  injection: InjectionConfig;
  /** --allow-pod-restart. */
  allowPodRestart: boolean;
  now: () => Date;
  resyncMs: () => number;
  /** rrsa_stale_pods{namespace}. */
  staleGauge?: { set(labels: { namespace: string }, value: number): void } | undefined;
  /** Restarts per minute, cluster-wide (default 5, a burst of 5). */
  restartsPerMinute?: number;
}

interface Tally {
  counts: PodCounts;
  stale: StalePod[];
  expected: ExpectedIdentity | undefined;
}

/**
 * One pass over the pods of one binding's ServiceAccount: classify them against what the webhook
 * would inject now (pure), name their workloads, restart the ones it may (once per identity,
 * within a cluster-wide budget), then write status.pods and PodsCurrent once, only if changed,
 * with one Event per transition. Reads pods, ServiceAccounts and the namespace from caches (the
 * namespace with a direct GET only on a miss), so pod churn costs no RAM call and no apiserver read.
 */
export class PodChecks {
  readonly #deps: PodChecksDeps;
  readonly #budget: RestartBudget;
  /** ReplicaSet uid -> its controller (fixed for a ReplicaSet's life); bounded. */
  readonly #replicaSetOwners = new Map<string, OwnerRef | null>();
  /** Per binding key: namespace and stale count, summed per namespace into the gauge. */
  readonly #stale = new Map<string, { namespace: string; stale: number }>();

  constructor(deps: PodChecksDeps) {
    this.#deps = deps;
    const perMinute = deps.restartsPerMinute ?? 5;
    this.#budget = new RestartBudget({
      capacity: perMinute,
      refillMs: 60_000 / perMinute,
      now: deps.now().getTime(),
    });
  }

  async check(namespace: string, name: string): Promise<{ requeueAfterMs?: number }> {
    const deps = this.#deps;
    const binding = await deps.bindings.get(namespace, name);
    if (!binding || binding.metadata.deletionTimestamp || !this.#holds(binding)) {
      this.#setStale(`${namespace}/${name}`, namespace, 0);
      return {};
    }
    // Not before the first reconcile has written status: that pass adds the finalizer and would
    // lose its write to ours (a conflict), and a status of PodsCurrent alone says nothing. The
    // reconciler always writes Ready; the CRD's default status ({observedGeneration: 0}, for
    // kstatus) does not count.
    const reconciled = binding.status?.conditions?.some((c) => c.type === ConditionType.Ready);
    if (!deps.pods.hasSynced() || !reconciled) return { requeueAfterMs: 1000 };
    const sa = deps.serviceAccount(namespace, binding.spec.serviceAccountName);
    const tally = await this.#tally(binding, sa);
    const restart = this.#restartMode(binding);
    const restarted = new Set<string>();
    let retryAfterMs: number | undefined;
    if (restart === 'on' && tally.expected && tally.stale.length > 0) {
      const outcome = await this.#restart(binding, tally, tally.expected);
      for (const w of outcome.restarted) restarted.add(workloadLabel(w));
      retryAfterMs = outcome.retryAfterMs;
    }
    await this.#writeStatus(binding, tally, restart, restarted);
    this.#setStale(`${namespace}/${name}`, namespace, tally.counts.stale);
    return { requeueAfterMs: Math.min(retryAfterMs ?? Infinity, deps.resyncMs()) };
  }

  /** Only the binding holding the ServiceAccount reports its pods (the other one is Stalled). */
  #holds(binding: PodIdentityBinding): boolean {
    const holder = holderAmong(
      this.#deps.bindings.forServiceAccount(
        binding.metadata.namespace,
        binding.spec.serviceAccountName,
      ),
      binding,
    );
    return !holder || holder.name === binding.metadata.name;
  }

  #restartMode(binding: PodIdentityBinding): RestartMode {
    if (binding.spec.restartStalePods !== true) return 'off';
    return this.#deps.allowPodRestart ? 'on' : 'notAllowed';
  }

  /**
   * The namespace is read (one GET) only when the ServiceAccount has running pods: most bindings
   * have none at any time, and each of their checks and resyncs then costs no apiserver call.
   */
  async #tally(binding: PodIdentityBinding, sa: ServiceAccount | undefined): Promise<Tally> {
    const pods = runningPodsOf(
      this.#deps.pods.ofServiceAccount(binding.metadata.namespace, binding.spec.serviceAccountName),
      binding.spec.serviceAccountName,
    );
    const ns = pods.length > 0 ? await this.#deps.namespace(binding.metadata.namespace) : undefined;
    const judged = tallyPods(pods, sa, ns, this.#deps.injection);
    const stale: StalePod[] = [];
    for (const { pod, why } of judged.stale)
      stale.push({ name: pod.metadata.name, why, workload: await this.#workloadOf(pod) });
    return { counts: judged.counts, stale, expected: judged.expected };
  }

  /** A ReplicaSet's pods belong to its Deployment (one cached GET per ReplicaSet). */
  async #workloadOf(pod: PodView): Promise<Workload | undefined> {
    const owner = pod.owner;
    if (!owner) return undefined;
    if (owner.kind !== 'ReplicaSet') return { kind: owner.kind, name: owner.name };
    let parent = this.#replicaSetOwners.get(owner.uid);
    if (parent === undefined) {
      parent =
        (await this.#deps.workloads.replicaSetOwner(pod.metadata.namespace, owner.name)) ?? null;
      if (this.#replicaSetOwners.size >= 10_000) this.#replicaSetOwners.clear();
      this.#replicaSetOwners.set(owner.uid, parent);
    }
    return parent
      ? { kind: parent.kind, name: parent.name }
      : { kind: owner.kind, name: owner.name };
  }

  async #restart(
    binding: PodIdentityBinding,
    tally: Tally,
    expected: ExpectedIdentity,
  ): Promise<{ restarted: Workload[]; retryAfterMs: number | undefined }> {
    const namespace = binding.metadata.namespace;
    const hash = identityHash(expected);
    const distinct = new Map<string, Workload>();
    for (const pod of tally.stale)
      if (isRestartable(pod.workload)) distinct.set(workloadLabel(pod.workload), pod.workload);
    const candidates = [];
    for (const workload of distinct.values()) {
      const annotations = await this.#deps.workloads.annotations({ ...workload, namespace });
      if (annotations === undefined) continue;
      candidates.push({ workload, recorded: annotations[RESTARTED_FOR_ANNOTATION] });
    }
    const now = this.#deps.now();
    const plan = planRestarts(candidates, hash, this.#budget, now.getTime());
    for (const workload of plan.restart) {
      await this.#deps.workloads.patch(
        { ...workload, namespace },
        { [RESTARTED_FOR_ANNOTATION]: hash },
        { [RESTARTED_AT_ANNOTATION]: now.toISOString() },
      );
      this.#deps.events.record(
        involvedObject(binding),
        'Normal',
        'WorkloadRestarted',
        `rollout restart of ${workloadLabel(workload)}: its pods run without ${expected.roleArn}`,
      );
    }
    return { restarted: [...plan.done, ...plan.restart], retryAfterMs: plan.retryAfterMs };
  }

  async #writeStatus(
    binding: PodIdentityBinding,
    tally: Tally,
    restart: RestartMode,
    restarted: ReadonlySet<string>,
  ): Promise<void> {
    const condition = podsCondition({
      serviceAccountName: binding.spec.serviceAccountName,
      counts: tally.counts,
      stale: tally.stale,
      restart,
      restartedForIdentity: restarted,
    });
    const previous = binding.status ?? {};
    const status = withPodsVerdict(
      previous,
      { condition, counts: tally.counts },
      binding.metadata.generation,
      this.#deps.now(),
    );
    if (sameJson(previous, status)) return;
    if (podsTransition(previous, condition))
      this.#deps.events.record(
        involvedObject(binding),
        condition.status === 'True' ? 'Normal' : 'Warning',
        condition.reason,
        condition.message,
      );
    await this.#deps.bindings.patchStatus(binding, status);
  }

  #setStale(key: string, namespace: string, stale: number): void {
    if (stale === 0) this.#stale.delete(key);
    else this.#stale.set(key, { namespace, stale });
    let sum = 0;
    for (const entry of this.#stale.values()) if (entry.namespace === namespace) sum += entry.stale;
    this.#deps.staleGauge?.set({ namespace }, sum);
  }

  /** Forgets a binding (deleted): its stale pods no longer count. */
  forget(namespace: string, name: string): void {
    this.#setStale(`${namespace}/${name}`, namespace, 0);
  }
}

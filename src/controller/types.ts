import type { PodIdentityBinding, PodIdentityBindingStatus } from '../api/types.ts';
import type { RamPort } from '../cloud/ports.ts';
import type { Guardrails } from '../identity/guardrails.ts';
import type { EventSink } from '../kube/events.ts';
import type { PodsVerdict } from './pods/verdict.ts';

/** Who this cluster is, to RAM: fixed at start-up (src/config discovers what is not given). */
export interface ClusterIdentity {
  clusterId: string;
  accountId: string;
  oidcProviderArn: string;
  issuerUrl: string;
  roleNamePrefix: string;
  /**
   * The roles live in another account than the cluster's (an AccountMapping): the ServiceAccount
   * then carries the role and provider ARNs, which the webhook cannot derive from its own config.
   */
  crossAccount?: boolean;
}

export interface ServiceAccountState {
  annotations: Record<string, string>;
}

/** The Kubernetes side, as the reconciler needs it (src/kube implements it). */
export interface BindingStore {
  /** The latest binding (informer cache first), or undefined when gone. */
  get(namespace: string, name: string): Promise<PodIdentityBinding | undefined>;
  /** The bindings that name this ServiceAccount (for conflict resolution): an index lookup. */
  forServiceAccount(namespace: string, serviceAccountName: string): readonly PodIdentityBinding[];
  patchStatus(binding: PodIdentityBinding, status: PodIdentityBindingStatus): Promise<void>;
  addFinalizer(binding: PodIdentityBinding): Promise<void>;
  removeFinalizer(binding: PodIdentityBinding): Promise<void>;
}

export interface ServiceAccountStore {
  get(namespace: string, name: string): Promise<ServiceAccountState | undefined>;
  /** Sets (string) or removes (null) annotations, preserving everything else. */
  patchAnnotations(
    namespace: string,
    name: string,
    annotations: Record<string, string | null>,
  ): Promise<void>;
  /** 'namespace-terminating' when the namespace is being deleted (nothing can be created). */
  create(
    namespace: string,
    name: string,
    annotations: Record<string, string>,
  ): Promise<void | 'namespace-terminating'>;
}

export interface ReconcilerDeps {
  cluster: ClusterIdentity;
  guardrails: Guardrails;
  ram: RamPort;
  bindings: BindingStore;
  serviceAccounts: ServiceAccountStore;
  events: EventSink;
  now: () => Date;
  /** Resync period: a converged binding is looked at again after this long (drift repair). */
  resyncMs: () => number;
  /**
   * How long a pass that converged RAM vouches for it to later passes queued by Kubernetes
   * events (verified-role.ts); absent or 0: every pass reads RAM. Below resyncMs, so the resync
   * pass always reads.
   */
  ramFreshMs?: () => number;
  /** Reads whether a namespace opted in to injection, so Ready can say when pods get nothing. */
  namespaces?: NamespaceOptIn;
  /**
   * The pod checks' verdict (PodsCurrent, status.pods), folded into the reconciler's own status
   * write so that a binding's first status is one write, not two; absent when pod checks are off.
   */
  podVerdict?: PodVerdictPort;
}

export interface PodVerdictPort {
  /**
   * The verdict as the pod checks would write it now, judged with the ServiceAccount's
   * annotations as this pass left them (undefined: as the cache has them); undefined to leave
   * those fields to the pod checks.
   */
  verdict(
    binding: PodIdentityBinding,
    serviceAccountAnnotations: Record<string, string> | undefined,
  ): Promise<PodsVerdict | undefined>;
}

export interface NamespaceOptIn {
  /** true/false from the namespace's injection label; undefined when it cannot be read. */
  injectionEnabled(namespace: string): Promise<boolean | undefined>;
}

export interface ReconcileResult {
  requeueAfterMs?: number;
}

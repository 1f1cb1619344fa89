import {
  ConditionType,
  FINALIZER,
  type PodIdentityBinding,
  type PolicySpec,
} from '../api/types.ts';
import { formatProblems, validateSpec } from '../api/validate.ts';
import { CloudError } from '../cloud/errors.ts';
import type { PolicyRef } from '../cloud/ports.ts';
import { sameJson } from '../identity/trust-policy.ts';
import { INJECTION_LABEL } from '../webhook/constants.ts';
import { holderAmong } from './conflicts.ts';
import {
  ANNOTATION_TAKE_OVER_RETAINED_ROLE,
  decideRole,
  type ObservedRole,
  type RetainedRole,
  type RoleDecision,
} from './decide.ts';
import {
  MANAGED_BY_VALUE,
  TAG_BINDING,
  TAG_CLUSTER,
  TAG_MANAGED_BY,
  TAG_NAMESPACE,
} from './ownership.ts';
import { desiredState, guardrailViolations, type DesiredState } from './desired.ts';
import {
  assumedHalf,
  isNoOp,
  planObservation,
  type Half,
  type ObservationPlan,
} from './drift-check.ts';
import { finalizeBinding } from './finalize.ts';
import { involvedObject } from './involved.ts';
import {
  applyInline,
  bindingIdentity,
  decideInline,
  deleteOwnedInline,
  desiredInlinePolicies,
  gatherInline,
  inlineGrantViolations,
  inlineRefs,
  type DesiredInline,
} from './inline-policies.ts';
import { policyKey } from './policies.ts';
import { enforcePolicyGrants } from './policy-guard.ts';
import { annotationChanges } from './service-account.ts';
import { podsTransition, type PodsVerdict } from './pods/verdict.ts';
import { computeStatus, type Detail, type Outcome } from './status.ts';
import type { ReconcileResult, ReconcilerDeps } from './types.ts';
import { freshVerification, roleFingerprint, type VerifiedRole } from './verified-role.ts';

/** Per-pass bookkeeping: RAM writes done, and the reconcile's deadline. */
interface Progress {
  writes: number;
  signal: AbortSignal | undefined;
}

/** The error the runtime retries with backoff (honouring a cloud retry-after). */
export class RetryableError extends Error {
  readonly retryAfterMs: number | undefined;
  /**
   * The pass made RAM writes before it failed: it is converging, so the runtime restarts the
   * key's backoff instead of growing it (a binding failing in place backs off exponentially; one
   * moving forward through a throttling storm keeps moving).
   */
  readonly progressed: boolean;
  constructor(message: string, retryAfterMs?: number, cause?: unknown, progressed = false) {
    super(message, { cause });
    this.retryAfterMs = retryAfterMs;
    this.progressed = progressed;
  }
}

/**
 * One level-triggered pass over a binding: read it, its ServiceAccount and the RAM role; decide;
 * act; write status once if it changed. Safe to run any number of times; a pass over a world that
 * already matches makes no RAM write and no Kubernetes write.
 */
export class BindingReconciler {
  readonly #deps: ReconcilerDeps;
  /** Which half each converged binding's last drift check read (drift-check.ts alternates). */
  readonly #lastHalf = new Map<string, Half>();
  /** Each binding's last RAM convergence (verified-role.ts): event-queued passes skip RAM. */
  readonly #verified = new Map<string, VerifiedRole>();

  constructor(deps: ReconcilerDeps) {
    this.#deps = deps;
  }

  /**
   * `signal` is the reconcile's deadline: checked before every write, so a pass that ran out of
   * time stops between two calls (as safe as a crash there) and is retried with backoff.
   */
  async reconcile(namespace: string, name: string, signal?: AbortSignal): Promise<ReconcileResult> {
    const binding = await this.#deps.bindings.get(namespace, name);
    if (!binding) {
      this.#lastHalf.delete(`${namespace}/${name}`);
      this.#verified.delete(`${namespace}/${name}`);
      return {};
    }
    if (binding.metadata.deletionTimestamp) {
      this.#verified.delete(`${namespace}/${name}`);
      return finalizeBinding(this.#deps, binding);
    }
    if (!(binding.metadata.finalizers ?? []).includes(FINALIZER)) {
      // The finalizer goes on before anything exists in RAM, so nothing can be orphaned. The
      // update it causes queues this binding again, and that pass works on the fresh object.
      await this.#deps.bindings.addFinalizer(binding);
      return {};
    }
    const outcome = await this.#evaluate(binding, signal);
    const pods = await this.#podVerdict(binding, outcome);
    signal?.throwIfAborted();
    await this.#writeStatus(binding, outcome, pods);
    if (outcome.reconciling && !outcome.stalled)
      throw new RetryableError(
        outcome.eventMessage ?? outcome.message,
        outcome.retryAfterMs,
        undefined,
        outcome.progressed === true,
      );
    return { requeueAfterMs: this.#deps.resyncMs() };
  }

  // Per-reconcile state (the cloud's retry-after) travels in the Outcome, never on this shared
  // instance: workers interleave reconciles of different bindings at every await.
  /**
   * Why the spec alone is refused (invalid, or over the guardrails), with no I/O: undefined when
   * it may go ahead. The account router asks this before it touches the target account, so a
   * refused binding creates nothing there, not even the OIDC provider.
   */
  refusal(binding: PodIdentityBinding): Outcome | undefined {
    const validation = validateSpec(binding.spec);
    if (!validation.valid)
      return stalled('InvalidSpec', `invalid spec: ${formatProblems(validation.problems)}`);
    const violations = guardrailViolations(binding, this.#deps.guardrails, this.#deps.cluster);
    if (violations.length > 0) return stalled('GuardrailViolation', formatProblems(violations));
    const inline = desiredInlinePolicies(binding, this.#deps.cluster);
    const refusedInline = inlineGrantViolations(inline, this.#deps.guardrails.deniedActions);
    if (refusedInline.length > 0) {
      const message = formatProblems(refusedInline);
      return {
        ...stalled('GuardrailViolation', message),
        details: { PoliciesReady: { status: 'False', reason: 'GuardrailViolation', message } },
      };
    }
    return undefined;
  }

  async #evaluate(binding: PodIdentityBinding, signal?: AbortSignal): Promise<Outcome> {
    const refused = this.refusal(binding);
    if (refused) return refused;
    const inline = desiredInlinePolicies(binding, this.#deps.cluster);
    const holder = holderAmong(
      this.#deps.bindings.forServiceAccount(
        binding.metadata.namespace,
        binding.spec.serviceAccountName,
      ),
      binding,
    );
    if (holder && holder.name !== binding.metadata.name)
      return stalled(
        'ServiceAccountConflict',
        `ServiceAccount ${binding.spec.serviceAccountName} is already bound by the older PodIdentityBinding ${holder.name}: delete one of them or point this one at another ServiceAccount`,
      );
    const desired = desiredState(binding, this.#deps.cluster);
    const key = `${binding.metadata.namespace}/${binding.metadata.name}`;
    const verified = freshVerification(
      this.#verified.get(key),
      binding,
      this.#deps.now().getTime(),
      this.#deps.ramFreshMs?.() ?? 0,
    );
    if (verified)
      return this.#convergedOutcome(
        binding,
        desired,
        verified,
        await this.#wireServiceAccount(binding, desired),
      );
    this.#verified.delete(key);
    // RAM writes that succeeded in this pass (a local: passes of other bindings interleave).
    const progress = { writes: 0, signal };
    try {
      const refused = await enforcePolicyGrants(this.#deps, binding, desired);
      if (refused) return refused;
      return await this.#converge(binding, desired, progress, inline);
    } catch (error) {
      if (error instanceof CloudError)
        return { ...this.#cloudFailure(error, desired), progressed: progress.writes > 0 };
      throw error;
    }
  }

  /**
   * The pod verdict folded into this pass's write, for a binding that holds its ServiceAccount
   * (the other one of a conflict reports no pods), whether Ready or not, as the pod checks do.
   * A Ready pass knows the annotations it left; others are judged on the ServiceAccount cache.
   */
  async #podVerdict(
    binding: PodIdentityBinding,
    outcome: Outcome,
  ): Promise<PodsVerdict | undefined> {
    if (!this.#deps.podVerdict) return undefined;
    const holder = holderAmong(
      this.#deps.bindings.forServiceAccount(
        binding.metadata.namespace,
        binding.spec.serviceAccountName,
      ),
      binding,
    );
    if (holder && holder.name !== binding.metadata.name) return undefined;
    return this.#deps.podVerdict.verdict(binding, outcome.serviceAccountAnnotations);
  }

  async #namespaceOptedIn(binding: PodIdentityBinding): Promise<boolean | undefined> {
    return this.#deps.namespaces?.injectionEnabled(binding.metadata.namespace);
  }

  async #converge(
    binding: PodIdentityBinding,
    desired: DesiredState,
    progress: Progress,
    inline: readonly DesiredInline[],
  ): Promise<Outcome> {
    const id = bindingIdentity(binding, this.#deps.cluster);
    const inlineDecision = decideInline(await gatherInline(this.#deps.ram, inline), id);
    if (inlineDecision.kind === 'blocked')
      return { ...stalled(inlineDecision.reason, inlineDecision.message), role: undefined };
    // Inline policies are attached like any other policy of the role.
    const withInline = { ...desired, policies: [...desired.policies, ...inlineRefs(inline)] };
    const decide = async (observed: ObservedRole): Promise<RoleDecision> =>
      decideRole({
        desired: withInline,
        observed,
        binding: {
          clusterId: id.clusterId,
          namespace: id.namespace,
          name: id.name,
          accountId: this.#deps.cluster.accountId,
        },
        retained: await this.#retainedRole(binding, observed.tags),
      });
    const key = `${id.namespace}/${id.name}`;
    const plan = planObservation(binding, this.#lastHalf.get(key));
    let observed = await this.#observe(desired.roleName, plan, binding);
    let decision = await decide(observed);
    if (plan.kind === 'half') this.#lastHalf.set(key, plan.read);
    else this.#lastHalf.delete(key);
    if (plan.kind === 'half' && observed.role && !isNoOp(decision)) {
      // The assumed half may be what differs: decide again on everything RAM says before acting.
      observed = await this.#complete(desired.roleName, observed, plan.read);
      decision = await decide(observed);
    }
    if (decision.kind === 'blocked')
      return { ...stalled(decision.reason, decision.message), role: undefined };
    const wroteInline = (what: string): void => {
      progress.writes++;
      this.#event(binding, 'Normal', 'InlinePolicyWritten', what);
      progress.signal?.throwIfAborted();
    };
    progress.signal?.throwIfAborted();
    // Policies exist before the role attaches them; leftovers go after the role detached them.
    const inlineStatus = await applyInline(
      this.#deps.ram,
      inlineDecision.steps,
      binding,
      id,
      wroteInline,
    );
    await this.#applyRole(binding, desired, decision, progress);
    // Leftovers are looked up (by tags) only when this binding has or had inline policies, so a
    // binding without any keeps its 2 reads per resync (resync.ts); deletion always looks.
    if (inline.length > 0 || (binding.status?.inlinePolicies ?? []).length > 0)
      await deleteOwnedInline(
        this.#deps.ram,
        id,
        inline.map((d) => d.policyName),
        wroteInline,
      );
    // RAM matches the spec now; the ServiceAccount is Kubernetes-side work.
    const verified: VerifiedRole = {
      fingerprint: roleFingerprint(binding),
      checkedAtMs: this.#deps.now().getTime(),
      ownership: decision.ownership,
      attachedPolicies: decision.attachedAfter,
      inlinePolicies: inlineStatus,
    };
    this.#verified.set(key, verified);
    return this.#convergedOutcome(
      binding,
      desired,
      verified,
      await this.#wireServiceAccount(binding, desired),
    );
  }

  /** The outcome of a pass whose RAM side matches the spec (just now, or verified recently). */
  async #convergedOutcome(
    binding: PodIdentityBinding,
    desired: DesiredState,
    verified: VerifiedRole,
    wired: Wired,
  ): Promise<Outcome> {
    const { annotations, ...serviceAccount } = wired;
    const ready = serviceAccount.status === 'True';
    return {
      ready,
      reason: ready ? 'Bound' : serviceAccount.reason,
      message: ready
        ? readyMessage(binding, desired.roleArn, await this.#namespaceOptedIn(binding))
        : serviceAccount.message,
      stalled: false,
      reconciling: false,
      details: {
        RoleReady: ok(
          verified.ownership === 'Created' ? 'RoleManaged' : 'RoleAdopted',
          desired.roleArn,
        ),
        TrustPolicyReady: ok(
          'StatementPresent',
          `system:serviceaccount:${binding.metadata.namespace}:${binding.spec.serviceAccountName} may assume the role via ${desired.target.providerArn}`,
        ),
        PoliciesReady: ok('PoliciesAttached', describePolicies(verified.attachedPolicies)),
        ServiceAccountReady: serviceAccount,
      },
      role: { name: desired.roleName, arn: desired.roleArn, ownership: verified.ownership },
      oidcProviderArn: this.#deps.cluster.oidcProviderArn,
      accountId: this.#deps.cluster.accountId,
      attachedPolicies: verified.attachedPolicies,
      inlinePolicies: verified.inlinePolicies,
      serviceAccountAnnotations: annotations,
    };
  }

  /** Whether the role's owner is a deleted binding of this cluster and namespace (Retain). */
  async #retainedRole(
    binding: PodIdentityBinding,
    tags: Record<string, string>,
  ): Promise<RetainedRole | undefined> {
    const owner = tags[TAG_BINDING];
    if (
      tags[TAG_MANAGED_BY] !== MANAGED_BY_VALUE ||
      tags[TAG_CLUSTER] !== this.#deps.cluster.clusterId ||
      tags[TAG_NAMESPACE] !== binding.metadata.namespace ||
      owner === undefined ||
      owner === binding.metadata.name
    )
      return undefined;
    if (await this.#deps.bindings.get(binding.metadata.namespace, owner)) return undefined;
    return {
      previousBinding: owner,
      takeOver: binding.metadata.annotations?.[ANNOTATION_TAKE_OVER_RETAINED_ROLE] === 'true',
    };
  }

  async #observe(
    roleName: string,
    plan: ObservationPlan,
    binding: PodIdentityBinding,
  ): Promise<ObservedRole> {
    const { ram } = this.#deps;
    const role = await ram.getRole(roleName);
    if (!role) return { role: undefined, tags: {}, attached: [] };
    if (plan.kind === 'half') {
      const assumed = assumedHalf(binding, {
        clusterId: this.#deps.cluster.clusterId,
        namespace: binding.metadata.namespace,
        name: binding.metadata.name,
      });
      if (plan.read === 'tags')
        return { role, tags: await ram.listRoleTags(roleName), attached: assumed.attached };
      return { role, tags: assumed.tags, attached: await ram.listPoliciesForRole(roleName) };
    }
    const [tags, attached] = await Promise.all([
      ram.listRoleTags(roleName),
      ram.listPoliciesForRole(roleName),
    ]);
    return { role, tags, attached };
  }

  /** Reads the half a drift check assumed (the role and the other half are already read). */
  async #complete(roleName: string, observed: ObservedRole, read: Half): Promise<ObservedRole> {
    const { ram } = this.#deps;
    if (read === 'tags') return { ...observed, attached: await ram.listPoliciesForRole(roleName) };
    return { ...observed, tags: await ram.listRoleTags(roleName) };
  }

  async #applyRole(
    binding: PodIdentityBinding,
    desired: DesiredState,
    decision: Extract<RoleDecision, { kind: 'act' }>,
    progress: Progress,
  ): Promise<void> {
    const { ram } = this.#deps;
    const wrote = (): void => {
      progress.writes++;
      progress.signal?.throwIfAborted();
    };
    progress.signal?.throwIfAborted();
    if (decision.retag) {
      // Taking over a retained role: ours from now on (the tags are the proof deletion reads).
      await ram.tagRole(desired.roleName, decision.retag);
      wrote();
      this.#event(
        binding,
        'Normal',
        'RoleTakenOver',
        `took over retained role ${desired.roleName}`,
      );
    }
    if (decision.create) {
      await ram.createRole(decision.create);
      wrote();
      this.#event(binding, 'Normal', 'RoleCreated', `created RAM role ${desired.roleArn}`);
    }
    // Write-ahead: an adopted role's ledger (adoption marker + policies about to be attached) is
    // written before the trust statement and the attaches, so an error between two calls leaves
    // a record that over-approximates, never a statement or grant that no record knows about.
    if (decision.ledger?.beforeAttach !== undefined) {
      await ram.tagRole(desired.roleName, { [decision.ledger.key]: decision.ledger.beforeAttach });
      wrote();
    }
    if (decision.update) {
      await ram.updateRole(desired.roleName, decision.update);
      wrote();
      const fields = Object.keys(decision.update).join(', ');
      this.#event(binding, 'Normal', 'RoleUpdated', `updated ${fields} of ${desired.roleName}`);
    }
    for (const policy of decision.attach) {
      await ram.attachPolicy(desired.roleName, policy);
      wrote();
      this.#event(binding, 'Normal', 'PolicyAttached', `attached ${policyKey(policy)}`);
    }
    for (const policy of decision.detach) {
      await ram.detachPolicy(desired.roleName, policy);
      wrote();
      this.#event(binding, 'Normal', 'PolicyDetached', `detached ${policyKey(policy)}`);
    }
    if (decision.ledger?.afterDetach !== undefined) {
      await ram.tagRole(desired.roleName, { [decision.ledger.key]: decision.ledger.afterDetach });
      wrote();
    }
  }

  async #wireServiceAccount(binding: PodIdentityBinding, desired: DesiredState): Promise<Wired> {
    const { serviceAccounts } = this.#deps;
    const namespace = binding.metadata.namespace;
    const name = binding.spec.serviceAccountName;
    const wiring = {
      roleName: desired.roleName,
      bindingName: binding.metadata.name,
      tokenExpirationSeconds: desired.tokenExpirationSeconds,
      ...(this.#deps.cluster.crossAccount
        ? { arns: { roleArn: desired.roleArn, oidcProviderArn: desired.target.providerArn } }
        : {}),
    };
    const current = await serviceAccounts.get(namespace, name);
    let annotations: Record<string, string>;
    if (!current) {
      if (!binding.spec.createServiceAccount)
        return {
          status: 'False',
          reason: 'ServiceAccountNotFound',
          message: `ServiceAccount ${namespace}/${name} does not exist: create it, or set spec.createServiceAccount: true`,
        };
      annotations = annotationChanges({}, wiring) as Record<string, string>;
      if ((await serviceAccounts.create(namespace, name, annotations)) === 'namespace-terminating')
        // Not retried: the namespace, and this binding with it, is being deleted.
        return {
          status: 'False',
          reason: 'NamespaceTerminating',
          message: `namespace ${namespace} is being deleted, so ServiceAccount ${name} cannot be created`,
        };
      this.#event(binding, 'Normal', 'ServiceAccountCreated', `created ServiceAccount ${name}`);
    } else {
      const changes = annotationChanges(current.annotations, wiring);
      annotations = { ...current.annotations };
      for (const [key, value] of Object.entries(changes))
        if (value === null) delete annotations[key];
        else annotations[key] = value;
      if (Object.keys(changes).length > 0) {
        await serviceAccounts.patchAnnotations(namespace, name, changes);
        this.#event(
          binding,
          'Normal',
          'ServiceAccountAnnotated',
          `annotated ServiceAccount ${name} with role ${desired.roleName}`,
        );
      }
    }
    return {
      ...ok('Annotated', `ServiceAccount ${name} names role ${desired.roleName}`),
      annotations,
    };
  }

  #cloudFailure(error: CloudError, desired: DesiredState): Outcome {
    // The condition says the same thing on every retry (no status write per attempt); the Event
    // and the log keep the request id.
    const stable = `${error.action}: ${error.describeStable()}`;
    const outcome = this.#cloudFailureOutcome(error, desired, stable);
    return {
      ...outcome,
      eventMessage: outcome.message.replace(stable, `${error.action}: ${error.describe()}`),
    };
  }

  #cloudFailureOutcome(error: CloudError, desired: DesiredState, described: string): Outcome {
    switch (error.kind) {
      case 'Throttled':
      case 'Transient':
      case 'NotFound':
      case 'Conflict':
        return {
          ...base('CloudRetrying', `retrying after a transient Alibaba Cloud error: ${described}`),
          reconciling: true,
          role: undefined,
          retryAfterMs: error.retryAfterMs,
        };
      case 'Denied':
        return {
          ...base(
            'CloudPermissionDenied',
            `the operator's own RAM identity may not do this: ${described}; grant it the permission (see README, "The operator's own RAM role")`,
          ),
          reconciling: true,
        };
      default:
        return stalled(
          'CloudRequestRejected',
          `Alibaba Cloud rejected a request for role ${desired.roleName}: ${described}`,
        );
    }
  }

  async #writeStatus(
    binding: PodIdentityBinding,
    outcome: Outcome,
    pods: PodsVerdict | undefined,
  ): Promise<void> {
    const status = computeStatus(binding, outcome, this.#deps.now(), pods);
    if (binding.status && sameJson(binding.status, status)) return;
    const before = binding.status?.conditions?.find((c) => c.type === ConditionType.Ready);
    if (before?.reason !== outcome.reason)
      this.#event(
        binding,
        outcome.ready ? 'Normal' : 'Warning',
        outcome.reason,
        outcome.eventMessage ?? outcome.message,
      );
    // The pod checks' Event when this write is the one that flips PodsCurrent (same rule).
    if (pods && podsTransition(binding.status, pods.condition))
      this.#event(
        binding,
        pods.condition.status === 'True' ? 'Normal' : 'Warning',
        pods.condition.reason,
        pods.condition.message,
      );
    await this.#deps.bindings.patchStatus(binding, status);
  }

  #event(
    binding: PodIdentityBinding,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
  ): void {
    this.#deps.events.record(involvedObject(binding), type, reason, message);
  }
}

/** The ServiceAccount's condition, and its annotations after this pass when it is wired. */
type Wired = Detail & { annotations?: Record<string, string> | undefined };

function ok(reason: string, message: string): Detail {
  return { status: 'True', reason, message };
}

function base(reason: string, message: string): Outcome {
  return { ready: false, reason, message, stalled: false, reconciling: false, details: {} };
}

function stalled(reason: string, message: string): Outcome {
  return { ...base(reason, message), stalled: true };
}

function describePolicies(policies: readonly (PolicySpec | PolicyRef)[]): string {
  return policies.length === 0 ? 'no policies requested' : policies.map(policyKey).join(', ');
}

/**
 * Ready means the role is usable. Whether pods get it also needs the webhook's opt-in label; a
 * Ready that says "pods can assume" while the webhook skips every pod misleads, so it says so.
 */
export function readyMessage(
  binding: PodIdentityBinding,
  roleArn: string,
  namespaceOptedIn: boolean | undefined,
): string {
  const base = `pods of ServiceAccount ${binding.spec.serviceAccountName} can assume ${roleArn}`;
  if (namespaceOptedIn !== false) return base;
  const ns = binding.metadata.namespace;
  return `${base}, but namespace ${ns} is not labelled ${INJECTION_LABEL}=on, so the webhook injects only into pods labelled so: kubectl label namespace ${ns} ${INJECTION_LABEL}=on`;
}

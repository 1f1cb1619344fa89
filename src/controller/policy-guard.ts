import type { PodIdentityBinding, PolicySpec } from '../api/types.ts';
import { formatProblems } from '../api/validate.ts';
import type { PolicyRef, RamPort } from '../cloud/ports.ts';
import type { GuardrailViolation } from '../identity/guardrails.ts';
import { judgePolicyDocument, type PrivilegedGrant } from '../identity/policy-grants.ts';
import type { DesiredState } from './desired.ts';
import { formatLedger, ledgerTagKey, readLedger, withoutPolicies } from './adoption-ledger.ts';
import { classifyRoleOwnership } from './ownership.ts';
import { policyKey } from './policies.ts';
import type { Outcome } from './status.ts';
import type { ReconcilerDeps } from './types.ts';

/**
 * The guardrail on what a Custom policy grants (docs/adr/0008-privileged-actions.md). A policy's
 * name says nothing about its content, so its default version is read from RAM and judged on
 * every pass, before any RAM write: a policy edited into an admin policy after it was attached
 * is caught at the next resync. System policies stay judged by name (deniedPolicies).
 */

/** The RAM calls the guard makes: reads, and a detach of what it refuses. */
export type PolicyGuardRam = Pick<
  RamPort,
  | 'getPolicyDocument'
  | 'getRole'
  | 'listRoleTags'
  | 'listPoliciesForRole'
  | 'detachPolicy'
  | 'tagRole'
>;

export type PolicyGrantReason = 'GuardrailViolation' | 'PolicyNotFound';

export interface PolicyGrantViolation extends GuardrailViolation {
  reason: PolicyGrantReason;
  policy: PolicyRef;
}

const FIX = 'use a narrower policy or ask the cluster admin';

function grantMessage(key: string, grants: readonly PrivilegedGrant[]): string {
  const [first, ...rest] = grants as [PrivilegedGrant, ...PrivilegedGrant[]];
  const more = rest.length > 0 ? ` (and ${rest.length} more privileged grant(s))` : '';
  return `policy ${key} grants ${first.action} in Statement[${first.statementIndex}], which covers the privileged action ${first.deniedBy} (cluster guardrail --denied-actions)${more}: ${FIX}`;
}

function judge(
  field: string,
  policy: PolicyRef,
  document: string | undefined,
  deniedActions: readonly string[],
): PolicyGrantViolation | undefined {
  const key = policyKey(policy);
  if (document === undefined)
    return {
      field,
      policy,
      reason: 'PolicyNotFound',
      message: `policy ${key} does not exist in RAM: create it first, or correct the name or type`,
    };
  const judgement = judgePolicyDocument(document, deniedActions);
  if (judgement.kind === 'unjudgeable')
    return {
      field,
      policy,
      reason: 'GuardrailViolation',
      message: `policy ${key} cannot be judged (${judgement.reason}), so it is refused: ${FIX}`,
    };
  if (judgement.grants.length === 0) return undefined;
  return {
    field,
    policy,
    reason: 'GuardrailViolation',
    message: grantMessage(key, judgement.grants),
  };
}

/** Reads each Custom policy's default document (once per distinct policy) and judges it. */
export async function checkPolicyGrants(
  ram: Pick<RamPort, 'getPolicyDocument'>,
  policies: readonly PolicySpec[],
  deniedActions: readonly string[],
): Promise<PolicyGrantViolation[]> {
  const documents = new Map<string, string | undefined>();
  const violations: PolicyGrantViolation[] = [];
  for (const [index, policy] of policies.entries()) {
    if (policy.type !== 'Custom') continue;
    const key = policyKey(policy).toLowerCase();
    if (!documents.has(key)) documents.set(key, await ram.getPolicyDocument(policy));
    const violation = judge(
      `spec.role.policies[${index}]`,
      policy,
      documents.get(key),
      deniedActions,
    );
    if (violation) violations.push(violation);
  }
  return violations;
}

/**
 * Which refused policies to take off the role: on a role this binding owns, any that is attached
 * (the spec is the whole truth there); on an adopted role, only those this binding attached (its
 * adoption ledger in RAM, never status). A role of another binding, or an unmanaged one this
 * binding never adopted, is never touched. `ledger` is set for an adopted role.
 */
async function attachedByBinding(
  ram: PolicyGuardRam,
  binding: PodIdentityBinding,
  desired: DesiredState,
  clusterId: string,
): Promise<{ policies: PolicyRef[]; ledger?: PolicyRef[] }> {
  const role = await ram.getRole(desired.roleName);
  if (!role) return { policies: [] };
  const id = { clusterId, namespace: binding.metadata.namespace, name: binding.metadata.name };
  const tags = await ram.listRoleTags(desired.roleName);
  const ownership = classifyRoleOwnership(tags, id);
  const ledger = readLedger(tags, id);
  if (ownership.kind === 'other-binding') return { policies: [] };
  if (ownership.kind === 'unmanaged' && (!desired.adopt || ledger === undefined))
    return { policies: [] };
  const attached = await ram.listPoliciesForRole(desired.roleName);
  if (ownership.kind === 'ours') return { policies: attached };
  const recorded = new Set((ledger ?? []).map(policyKey));
  return { policies: attached.filter((p) => recorded.has(policyKey(p))), ledger: ledger ?? [] };
}

/**
 * The check as one step of the reconcile pass: undefined when every Custom policy is acceptable;
 * otherwise a Stalled outcome, after detaching refused policies this binding had attached (with
 * a Warning Event each). Throws CloudError like any RAM read; the caller turns it into an outcome.
 */
export async function enforcePolicyGrants(
  deps: Pick<ReconcilerDeps, 'guardrails' | 'events' | 'cluster'> & { ram: PolicyGuardRam },
  binding: PodIdentityBinding,
  desired: DesiredState,
): Promise<Outcome | undefined> {
  const violations = await checkPolicyGrants(
    deps.ram,
    desired.policies,
    deps.guardrails.deniedActions,
  );
  if (violations.length === 0) return undefined;
  const refused = violations.filter((v) => v.reason === 'GuardrailViolation');
  const detached: PolicyRef[] = [];
  if (refused.length > 0) {
    const refusedKeys = new Set(refused.map((v) => policyKey(v.policy).toLowerCase()));
    const onRole = await attachedByBinding(deps.ram, binding, desired, deps.cluster.clusterId);
    const toDetach = onRole.policies.filter((p) => refusedKeys.has(policyKey(p).toLowerCase()));
    for (const policy of toDetach) {
      await deps.ram.detachPolicy(desired.roleName, policy);
      detached.push(policy);
      const why = refused.find(
        (v) => policyKey(v.policy).toLowerCase() === policyKey(policy).toLowerCase(),
      );
      deps.events.record(
        {
          apiVersion: binding.apiVersion,
          kind: binding.kind,
          namespace: binding.metadata.namespace,
          name: binding.metadata.name,
          uid: binding.metadata.uid,
        },
        'Warning',
        'GuardrailViolation',
        `detached ${policyKey(policy)} from role ${desired.roleName}: ${why?.message ?? 'refused'}`,
      );
    }
    // The ledger is updated after the detach (never before): it may over-approximate, never miss.
    if (onRole.ledger && toDetach.length > 0)
      await deps.ram.tagRole(desired.roleName, {
        [ledgerTagKey({
          clusterId: deps.cluster.clusterId,
          namespace: binding.metadata.namespace,
          name: binding.metadata.name,
        })]: formatLedger(withoutPolicies(onRole.ledger, toDetach)),
      });
  }
  const gone = new Set(detached.map((p) => policyKey(p).toLowerCase()));
  const previously = binding.status?.attachedPolicies;
  const reason = refused.length > 0 ? 'GuardrailViolation' : 'PolicyNotFound';
  const message = formatProblems(violations);
  return {
    ready: false,
    reason,
    message,
    stalled: true,
    reconciling: false,
    details: { PoliciesReady: { status: 'False', reason, message } },
    role: undefined,
    ...(previously && detached.length > 0
      ? { attachedPolicies: previously.filter((p) => !gone.has(policyKey(p).toLowerCase())) }
      : {}),
  };
}

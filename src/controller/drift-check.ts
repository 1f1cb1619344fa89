import { ConditionType, type PodIdentityBinding } from '../api/types.ts';
import type { PolicyRef } from '../cloud/ports.ts';
import type { RoleDecision } from './decide.ts';
import { ownershipTags, type BindingIdentity } from './ownership.ts';

/**
 * A drift check of a converged binding reads the role (GetRole: trust policy, description,
 * session length) and one of the two lists, alternating: its tags (ListTagResources) or its
 * attached policies (ListPoliciesForRole). The list not read is taken as it was when the binding
 * converged: ownership tags naming this binding, and `status.attachedPolicies`. So a check costs
 * two reads instead of three, and drift is still seen within a bound: the role itself within one
 * resync period, tags and attached policies within two.
 *
 * Sound because the assumption only ever says "nothing to do": a decision that would write
 * anything (or refuse) is made again from a full observation before any write, so a wrong
 * assumption (including a forged status) costs one read, never a wrong write.
 */
export type Half = 'tags' | 'policies';

/** What a pass reads: every list, or the role and one half. */
export type ObservationPlan = { kind: 'full' } | { kind: 'half'; read: Half };

/**
 * Only a binding that converged at its current generation on a role this operator created gets
 * a half check; adopted roles (their ledger tag is not derivable from status), new, failing and
 * changed bindings read everything.
 */
export function planObservation(
  binding: PodIdentityBinding,
  lastHalf: Half | undefined,
): ObservationPlan {
  const status = binding.status;
  const ready = status?.conditions?.find((c) => c.type === ConditionType.Ready);
  const converged =
    ready?.status === 'True' &&
    status?.observedGeneration === binding.metadata.generation &&
    status?.roleOwnership === 'Created' &&
    status.attachedPolicies !== undefined;
  if (!converged) return { kind: 'full' };
  return { kind: 'half', read: lastHalf === 'tags' ? 'policies' : 'tags' };
}

/** The half not read, as it was when the binding converged. */
export function assumedHalf(
  binding: PodIdentityBinding,
  id: BindingIdentity,
): { tags: Record<string, string>; attached: PolicyRef[] } {
  return {
    tags: ownershipTags(id),
    attached: (binding.status?.attachedPolicies ?? []).map((p) => ({ type: p.type, name: p.name })),
  };
}

/** Whether a decision leaves RAM as it is (the only decision a half observation may stand on). */
export function isNoOp(decision: RoleDecision): boolean {
  if (decision.kind !== 'act') return false;
  return (
    decision.create === undefined &&
    decision.update === undefined &&
    decision.attach.length === 0 &&
    decision.detach.length === 0 &&
    decision.retag === undefined &&
    decision.ledger?.beforeAttach === undefined &&
    decision.ledger?.afterDetach === undefined
  );
}

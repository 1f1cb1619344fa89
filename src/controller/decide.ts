import type { RoleOwnershipMode } from '../api/types.ts';
import type { CreateRoleInput, PolicyRef, RamRole, UpdateRoleInput } from '../cloud/ports.ts';
import {
  MalformedTrustPolicyError,
  mergeBindingStatement,
  ownedTrustDocument,
  parseTrustDocument,
  sameJson,
  serializeTrustDocument,
} from '../identity/trust-policy.ts';
import type { DesiredState } from './desired.ts';
import { classifyRoleOwnership, ownershipTags, type BindingIdentity } from './ownership.ts';
import {
  formatLedger,
  ledgerFits,
  ledgerTagKey,
  readLedger,
  withPolicies,
} from './adoption-ledger.ts';
import { planPolicies, policyKey } from './policies.ts';

export interface ObservedRole {
  role: RamRole | undefined;
  tags: Record<string, string>;
  attached: PolicyRef[];
}

export type RoleDecision =
  | { kind: 'blocked'; reason: string; message: string }
  | {
      kind: 'act';
      ownership: RoleOwnershipMode;
      create: CreateRoleInput | undefined;
      update: UpdateRoleInput | undefined;
      attach: PolicyRef[];
      detach: PolicyRef[];
      /** The policies this binding is responsible for once the actions are done. */
      attachedAfter: PolicyRef[];
      /**
       * Adopted roles only: the ledger tag to write before attaching (adoption marker plus
       * every policy about to be attached) and after detaching. Undefined: no tag write.
       */
      ledger?: { key: string; beforeAttach?: string; afterDetach?: string } | undefined;
      /** Taking over a retained role: ownership tags to write before anything else. */
      retag?: Record<string, string> | undefined;
    };

/**
 * A role whose tags name a binding of this cluster and namespace that no longer exists: left
 * behind by `deletionPolicy: Retain`. `takeOver` is the binding's explicit opt-in (annotation).
 */
export interface RetainedRole {
  previousBinding: string;
  takeOver: boolean;
}

export const ANNOTATION_TAKE_OVER_RETAINED_ROLE = 'rrsa.dev/take-over-retained-role';

/**
 * Decides what to do to the RAM role, from the desired state and what RAM reports. Pure: the
 * reconciler gathers the inputs and carries out the answer. A role that is not provably ours is
 * only touched when the binding adopted it, and then only through its own trust statement and
 * the policies it attached.
 */
export function decideRole(input: {
  desired: DesiredState;
  observed: ObservedRole;
  binding: BindingIdentity;
  retained?: RetainedRole | undefined;
}): RoleDecision {
  const { desired, observed, binding } = input;
  if (!observed.role) {
    const trustPolicy = serializeTrustDocument(ownedTrustDocument(desired.target));
    if (desired.adopt)
      return blocked(
        'RoleNotFound',
        `role ${desired.roleName} does not exist, so it cannot be adopted: create it first, or remove spec.role.adopt to let the operator create it`,
      );
    return {
      kind: 'act',
      ownership: 'Created',
      create: {
        name: desired.roleName,
        trustPolicy,
        description: desired.description,
        maxSessionDuration: desired.maxSessionDuration,
        tags: ownershipTags(binding),
      },
      update: undefined,
      attach: desired.policies,
      detach: [],
      attachedAfter: desired.policies,
    };
  }
  const ownership = classifyRoleOwnership(observed.tags, binding);
  if (ownership.kind === 'other-binding' && input.retained) {
    const { previousBinding, takeOver } = input.retained;
    if (!takeOver)
      return blocked(
        'RoleRetainedByDeletedBinding',
        `role ${desired.roleName} was kept (deletionPolicy: Retain) by PodIdentityBinding ${previousBinding} of this namespace, which no longer exists: annotate this binding with ${ANNOTATION_TAKE_OVER_RETAINED_ROLE}=true to take the role over, or choose another spec.role.name`,
      );
    const decision = decideExisting(input, observed.role, 'Created');
    return decision.kind === 'act' ? { ...decision, retag: ownershipTags(binding) } : decision;
  }
  if (ownership.kind === 'other-binding')
    return blocked(
      'RoleOwnedByAnotherBinding',
      // Never name the owner: that would tell one tenant another's namespace and binding.
      `role ${desired.roleName} is managed by another PodIdentityBinding (or another cluster): choose another spec.role.name`,
    );
  if (ownership.kind === 'unmanaged' && !desired.adopt)
    return blocked(
      'RoleAlreadyExists',
      `role ${desired.roleName} already exists and was not created by this operator; it was left untouched: set spec.role.adopt to manage it (if the cluster allows adoption) or choose another spec.role.name`,
    );
  return decideExisting(input, observed.role, ownership.kind === 'ours' ? 'Created' : 'Adopted');
}

function decideExisting(
  input: Parameters<typeof decideRole>[0],
  role: RamRole,
  ownership: RoleOwnershipMode,
): RoleDecision {
  const { desired, observed } = input;
  const trust = desiredTrustPolicy(role.trustPolicy, desired, ownership);
  if (trust.kind === 'malformed')
    return blocked(
      'MalformedTrustPolicy',
      `the trust policy of adopted role ${role.name} is not valid JSON (${trust.message}); it was left untouched: fix it in the RAM console`,
    );
  const update: UpdateRoleInput = {};
  if (trust.document !== undefined) update.trustPolicy = trust.document;
  if (desired.description !== undefined && desired.description !== role.description)
    update.description = desired.description;
  if (
    desired.maxSessionDuration !== undefined &&
    desired.maxSessionDuration !== role.maxSessionDuration
  )
    update.maxSessionDuration = desired.maxSessionDuration;
  const owned = ownership === 'Created';
  // On an adopted role, a policy counts as ours only if the ledger (a RAM tag, see
  // adoption-ledger.ts) says this binding attached it; status is never trusted for this.
  const ledger = owned ? [] : (readLedger(observed.tags, input.binding) ?? []);
  const plan = planPolicies({
    desired: desired.policies,
    attached: observed.attached,
    roleIsOwned: owned,
    attachedByBinding: owned ? observed.attached : ledger,
  });
  const base = {
    kind: 'act' as const,
    ownership,
    create: undefined,
    update: Object.keys(update).length > 0 ? update : undefined,
    attach: plan.attach,
    detach: plan.detach,
  };
  if (owned) return { ...base, attachedAfter: desired.policies };
  return adoptedDecision(input, base, ledger);
}

/** An adopted role: the same actions, plus the ledger writes around them (adoption-ledger.ts). */
function adoptedDecision(
  input: Parameters<typeof decideRole>[0],
  base: Omit<Extract<RoleDecision, { kind: 'act' }>, 'attachedAfter' | 'ledger'>,
  ledger: readonly PolicyRef[],
): RoleDecision {
  const { desired, observed } = input;
  const beforeAttach = withPolicies(ledger, base.attach);
  if (!ledgerFits(beforeAttach))
    return blocked(
      'TooManyPoliciesForAdoptedRole',
      `the policies a binding attaches to an adopted role are recorded in one RAM tag of at most 256 characters, and spec.role.policies does not fit (${formatLedger(beforeAttach).length} characters): list fewer policies, or let the operator create its own role`,
    );
  // What stays recorded: ours and still wanted (a recorded policy detached by hand drops out too).
  const wanted = new Set(desired.policies.map(policyKey));
  const afterDetach = beforeAttach.filter((p) => wanted.has(policyKey(p)));
  const key = ledgerTagKey(input.binding);
  const current = observed.tags[key];
  return {
    ...base,
    attachedAfter: afterDetach,
    ledger: {
      key,
      ...(current !== formatLedger(beforeAttach)
        ? { beforeAttach: formatLedger(beforeAttach) }
        : {}),
      ...(formatLedger(afterDetach) !== formatLedger(beforeAttach)
        ? { afterDetach: formatLedger(afterDetach) }
        : {}),
    },
  };
}

type TrustChange =
  { kind: 'ok'; document: string | undefined } | { kind: 'malformed'; message: string };

function desiredTrustPolicy(
  current: string,
  desired: DesiredState,
  ownership: RoleOwnershipMode,
): TrustChange {
  if (ownership === 'Created') {
    const wanted = ownedTrustDocument(desired.target);
    let same = false;
    try {
      same = sameJson(parseTrustDocument(current), wanted);
    } catch (error) {
      if (!(error instanceof MalformedTrustPolicyError)) throw error;
    }
    return { kind: 'ok', document: same ? undefined : serializeTrustDocument(wanted) };
  }
  try {
    const merged = mergeBindingStatement(parseTrustDocument(current), desired.target);
    return {
      kind: 'ok',
      document: merged.changed ? serializeTrustDocument(merged.document) : undefined,
    };
  } catch (error) {
    if (error instanceof MalformedTrustPolicyError)
      return { kind: 'malformed', message: error.message };
    throw error;
  }
}

function blocked(reason: string, message: string): RoleDecision {
  return { kind: 'blocked', reason, message };
}

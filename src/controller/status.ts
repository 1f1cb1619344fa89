import { mergeConditions, type ConditionInput } from '../api/conditions.ts';
import {
  ConditionType,
  type ConditionStatus,
  type PodIdentityBinding,
  type InlinePolicyStatus,
  type PodIdentityBindingStatus,
  type PolicySpec,
  type RoleOwnershipMode,
} from '../api/types.ts';
import { withPodsVerdict, type PodsVerdict } from './pods/verdict.ts';

export type DetailType =
  | typeof ConditionType.RoleReady
  | typeof ConditionType.TrustPolicyReady
  | typeof ConditionType.PoliciesReady
  | typeof ConditionType.ServiceAccountReady;

const DETAIL_TYPES: DetailType[] = [
  ConditionType.RoleReady,
  ConditionType.TrustPolicyReady,
  ConditionType.PoliciesReady,
  ConditionType.ServiceAccountReady,
];

export interface Detail {
  status: ConditionStatus;
  reason: string;
  message: string;
}

/**
 * How a reconcile ended. `stalled`: only a spec (or cluster config) change can help, so kstatus
 * says Failed instead of waiting for a timeout. `reconciling`: work is in flight or being retried.
 */
export interface Outcome {
  ready: boolean;
  reason: string;
  message: string;
  stalled: boolean;
  reconciling: boolean;
  details: Partial<Record<DetailType, Detail>>;
  role?: { name: string; arn: string; ownership?: RoleOwnershipMode | undefined } | undefined;
  oidcProviderArn?: string | undefined;
  /** The account the role lives in; undefined keeps what status said. */
  accountId?: string | undefined;
  attachedPolicies?: PolicySpec[] | undefined;
  /** The owned Custom policies of spec.role.inlinePolicies; undefined keeps what status said. */
  inlinePolicies?: InlinePolicyStatus[] | undefined;
  /** A cloud retry-after for this reconcile's retry (never status: it differs per attempt). */
  retryAfterMs?: number | undefined;
  /** The pass made RAM writes before it failed (see RetryableError.progressed). */
  progressed?: boolean | undefined;
  /** The ServiceAccount's annotations as this pass left them (a Ready pass), for the pod verdict. */
  serviceAccountAnnotations?: Record<string, string> | undefined;
  /** The Event's (and log's) wording when it carries more than the condition (a request id). */
  eventMessage?: string | undefined;
}

/**
 * The status a pass writes. `pods`: the pod verdict folded into this write (controller/pods/
 * verdict.ts, the very function the pod checks write through); without it PodsCurrent and
 * status.pods are kept as they are, for the pod checks to write.
 */
export function computeStatus(
  binding: PodIdentityBinding,
  outcome: Outcome,
  now: Date,
  pods?: PodsVerdict,
): PodIdentityBindingStatus {
  const generation = binding.metadata.generation;
  // kstatus' rule: a resource that is not Ready is either in progress or stuck. A wait that fixes
  // itself (the ServiceAccount does not exist yet) is Reconciling=True, or Flux's `wait: true`
  // would read Ready=False with neither flag as Current and pass while Argo says Progressing.
  const reconciling = outcome.reconciling || (!outcome.ready && !outcome.stalled);
  const inputs: ConditionInput[] = [
    {
      type: ConditionType.Ready,
      status: outcome.ready ? 'True' : 'False',
      reason: outcome.reason,
      message: outcome.message,
    },
    flag(ConditionType.Reconciling, reconciling, outcome),
    flag(ConditionType.Stalled, outcome.stalled, outcome),
    ...DETAIL_TYPES.map((type) => ({
      type,
      ...(outcome.details[type] ?? {
        status: 'Unknown' as const,
        reason: 'NotEvaluated',
        message: `not evaluated: ${outcome.reason}`,
      }),
    })),
  ];
  const previous = binding.status;
  // PodsCurrent is the pod checks' (controller/pods/): kept as it is unless `pods` is given.
  const podsCurrent = previous?.conditions?.find((c) => c.type === ConditionType.PodsCurrent);
  const status: PodIdentityBindingStatus = {
    observedGeneration: generation,
    conditions: [
      ...mergeConditions(previous?.conditions, inputs, generation, now),
      ...(podsCurrent ? [podsCurrent] : []),
    ],
  };
  const role = outcome.role ?? keptRole(previous);
  if (role) {
    status.roleName = role.name;
    status.roleArn = role.arn;
    if (role.ownership) status.roleOwnership = role.ownership;
  }
  // status.pods likewise.
  const full: PodIdentityBindingStatus = {
    ...status,
    ...carried(outcome, previous),
    ...(previous?.pods ? { pods: previous.pods } : {}),
  };
  return pods ? withPodsVerdict(full, pods, generation, now) : full;
}

/** Facts a pass that did not get that far keeps from the previous status. */
function carried(
  outcome: Outcome,
  previous: PodIdentityBindingStatus | undefined,
): PodIdentityBindingStatus {
  const status: PodIdentityBindingStatus = {};
  const provider = outcome.oidcProviderArn ?? previous?.oidcProviderArn;
  if (provider) status.oidcProviderArn = provider;
  const accountId = outcome.accountId ?? previous?.accountId;
  if (accountId) status.accountId = accountId;
  const attached = outcome.attachedPolicies ?? previous?.attachedPolicies;
  if (attached) status.attachedPolicies = attached;
  const inline = outcome.inlinePolicies ?? previous?.inlinePolicies;
  if (inline && inline.length > 0) status.inlinePolicies = inline;
  return status;
}

function keptRole(previous: PodIdentityBindingStatus | undefined): Outcome['role'] {
  if (!previous?.roleName || !previous.roleArn) return undefined;
  return { name: previous.roleName, arn: previous.roleArn, ownership: previous.roleOwnership };
}

function flag(type: string, on: boolean, outcome: Outcome): ConditionInput {
  return on
    ? { type, status: 'True', reason: outcome.reason, message: outcome.message }
    : { type, status: 'False', reason: type === 'Stalled' ? 'NotStalled' : 'Settled', message: '' };
}

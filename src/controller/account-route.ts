import type { AccountMapping } from '../api/account-mapping.ts';
import type { PodIdentityBinding } from '../api/types.ts';
import { accountOfArn, type AccountResolution } from '../identity/account-mapping.ts';

/**
 * Which account a binding's pass works in (pure). The account a role already lives in never
 * changes silently: when the namespace's mapping now points elsewhere, the binding is Stalled
 * with both accounts and the fix, and nothing is created in the new account. Deletion always
 * works in the account the role is in.
 */

export type Route =
  | { kind: 'home' }
  | { kind: 'mapped'; mapping: AccountMapping }
  | { kind: 'stalled'; reason: string; message: string };

export const REASON_ACCOUNT_CHANGED = 'AccountChanged';
export const REASON_MAPPING_CONFLICT = 'AccountMappingConflict';
export const REASON_MAPPING_UNKNOWN = 'AccountMappingUnknown';
export const REASON_ACCOUNT_UNREACHABLE = 'AccountUnreachable';

/** The account this binding's role was made in, from status (the role ARN for older statuses). */
export function previousAccount(binding: PodIdentityBinding): string | undefined {
  if (!binding.status?.roleName) return undefined;
  return binding.status.accountId ?? accountOfArn(binding.status.roleArn);
}

function describe(accountId: string, homeAccountId: string, mapping?: AccountMapping): string {
  if (accountId === homeAccountId) return `the cluster's own account ${accountId}`;
  return mapping
    ? `account ${accountId} (AccountMapping ${mapping.metadata.name})`
    : `account ${accountId}`;
}

export function decideRoute(input: {
  binding: PodIdentityBinding;
  resolution: AccountResolution;
  homeAccountId: string;
}): Route {
  const { binding, resolution, homeAccountId } = input;
  const ns = binding.metadata.namespace;
  if (resolution.kind === 'conflict')
    return {
      kind: 'stalled',
      reason: REASON_MAPPING_CONFLICT,
      message: `namespace ${ns} is mapped to different accounts by AccountMappings ${resolution.mappings.join(', ')}: a cluster admin must make exactly one of them select it`,
    };
  if (resolution.kind === 'unknown')
    return {
      kind: 'stalled',
      reason: REASON_MAPPING_UNKNOWN,
      message: `the labels of namespace ${ns} could not be read, so AccountMappings ${resolution.mappings.join(', ')} cannot say whether they select it; retried at the next resync`,
    };
  const mapping = resolution.kind === 'mapped' ? resolution.mapping : undefined;
  const target = mapping?.spec.accountId ?? homeAccountId;
  const previous = previousAccount(binding);
  if (previous !== undefined && previous !== target)
    return {
      kind: 'stalled',
      reason: REASON_ACCOUNT_CHANGED,
      message: `namespace ${ns} now maps to ${describe(target, homeAccountId, mapping)}, but role ${binding.status?.roleName} of this binding lives in ${describe(previous, homeAccountId)}; the operator never moves a role between accounts: restore the mapping, or delete this PodIdentityBinding (its role is cleaned up in account ${previous} per deletionPolicy) and create it again`,
    };
  return mapping && mapping.spec.accountId !== homeAccountId
    ? { kind: 'mapped', mapping }
    : { kind: 'home' };
}

/**
 * Where a deletion works: the account status names (the role is there), reached through any
 * mapping to it; else where the namespace maps now (a binding that never got a role).
 */
export function deletionRoute(input: {
  binding: PodIdentityBinding;
  resolution: AccountResolution;
  mappings: readonly AccountMapping[];
  homeAccountId: string;
}): Route {
  const previous = previousAccount(input.binding);
  if (previous === undefined) {
    const r = input.resolution;
    return r.kind === 'mapped' && r.mapping.spec.accountId !== input.homeAccountId
      ? { kind: 'mapped', mapping: r.mapping }
      : { kind: 'home' };
  }
  if (previous === input.homeAccountId) return { kind: 'home' };
  const mapping = [...input.mappings]
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))
    .find((m) => m.spec.accountId === previous);
  if (mapping) return { kind: 'mapped', mapping };
  return {
    kind: 'stalled',
    reason: REASON_ACCOUNT_UNREACHABLE,
    message: `role ${input.binding.status?.roleName} lives in account ${previous}, which no AccountMapping reaches any more, so it cannot be cleaned up: restore an AccountMapping for account ${previous} (or remove the finalizer to leave the role behind)`,
  };
}

/**
 * Who owns a RAM role, decided from the role's tags (cloud-side truth: survives a lost
 * finalizer, a re-created binding and a restored etcd). A role is ours only when every
 * ownership tag names this cluster, namespace and binding.
 */
export const TAG_MANAGED_BY = 'rrsa.dev/managed-by';
export const TAG_CLUSTER = 'rrsa.dev/cluster-id';
export const TAG_NAMESPACE = 'rrsa.dev/namespace';
export const TAG_BINDING = 'rrsa.dev/binding';
/** The account the role was made for (a role never moves; the console shows whose it is). */
export const TAG_ACCOUNT = 'rrsa.dev/account-id';
export const MANAGED_BY_VALUE = 'rrsa-operator';

export interface BindingIdentity {
  clusterId: string;
  namespace: string;
  name: string;
  /** Tagged on roles created from now on; roles made before the tag existed lack it. */
  accountId?: string | undefined;
}

export function ownershipTags(id: BindingIdentity): Record<string, string> {
  return {
    [TAG_MANAGED_BY]: MANAGED_BY_VALUE,
    [TAG_CLUSTER]: id.clusterId,
    [TAG_NAMESPACE]: id.namespace,
    [TAG_BINDING]: id.name,
    ...(id.accountId !== undefined ? { [TAG_ACCOUNT]: id.accountId } : {}),
  };
}

export type RoleOwnership =
  { kind: 'ours' } | { kind: 'other-binding'; owner: string } | { kind: 'unmanaged' };

export function classifyRoleOwnership(
  tags: Record<string, string>,
  id: BindingIdentity,
): RoleOwnership {
  if (tags[TAG_MANAGED_BY] !== MANAGED_BY_VALUE) return { kind: 'unmanaged' };
  // The account tag is judged only when both sides have one (older roles do not).
  const { [TAG_ACCOUNT]: account, ...mine } = ownershipTags(id);
  const accountMatches = account === undefined || (tags[TAG_ACCOUNT] ?? account) === account;
  if (accountMatches && Object.entries(mine).every(([k, v]) => tags[k] === v))
    return { kind: 'ours' };
  const owner = `cluster ${tags[TAG_CLUSTER] ?? '?'}, binding ${tags[TAG_NAMESPACE] ?? '?'}/${tags[TAG_BINDING] ?? '?'}`;
  return { kind: 'other-binding', owner };
}

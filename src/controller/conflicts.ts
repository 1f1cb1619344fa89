import type { PodIdentityBinding } from '../api/types.ts';

/** The fields conflict resolution looks at, from any binding in the cache. */
export interface BindingClaim {
  namespace: string;
  name: string;
  serviceAccountName: string;
  creationTimestamp: string;
}

/**
 * Two bindings for one ServiceAccount: the older keeps it (creation time, then name, so every
 * replica and every pass agree), the newer reports a conflict. A binding being deleted keeps its
 * claim until it is gone, so it can still clean up the annotation it wrote.
 */
export function serviceAccountHolder(
  claims: readonly BindingClaim[],
  namespace: string,
  serviceAccountName: string,
): BindingClaim | undefined {
  return claims
    .filter((c) => c.namespace === namespace && c.serviceAccountName === serviceAccountName)
    .sort(
      (a, b) =>
        Date.parse(a.creationTimestamp) - Date.parse(b.creationTimestamp) ||
        a.name.localeCompare(b.name),
    )[0];
}

/**
 * The holder of `binding`'s ServiceAccount among `candidates` (the bindings naming it, from the
 * cache's index; any superset, such as the whole namespace, gives the same answer).
 */
export function holderAmong(
  candidates: readonly PodIdentityBinding[],
  binding: PodIdentityBinding,
): BindingClaim | undefined {
  return serviceAccountHolder(
    candidates.map((b) => ({
      namespace: b.metadata.namespace,
      name: b.metadata.name,
      serviceAccountName: b.spec.serviceAccountName,
      creationTimestamp: b.metadata.creationTimestamp ?? '',
    })),
    binding.metadata.namespace,
    binding.spec.serviceAccountName,
  );
}

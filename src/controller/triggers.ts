import type { PodIdentityBinding } from '../api/types.ts';

export function bindingKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

export function parseBindingKey(key: string): { namespace: string; name: string } {
  const slash = key.indexOf('/');
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

/**
 * A binding changed: reconcile it, and every other binding for the same ServiceAccount, since
 * who holds the ServiceAccount may have changed (a deleted holder hands it to the next one).
 */
export function keysForBinding(
  binding: PodIdentityBinding,
  sameNamespace: readonly PodIdentityBinding[],
): string[] {
  const keys = new Set([bindingKey(binding.metadata.namespace, binding.metadata.name)]);
  for (const other of sameNamespace)
    if (other.spec.serviceAccountName === binding.spec.serviceAccountName)
      keys.add(bindingKey(other.metadata.namespace, other.metadata.name));
  return [...keys];
}

/** A ServiceAccount changed (annotation removed, deleted, recreated): its bindings re-wire it. */
export function keysForServiceAccount(
  namespace: string,
  name: string,
  sameNamespace: readonly PodIdentityBinding[],
): string[] {
  return sameNamespace
    .filter((b) => b.spec.serviceAccountName === name)
    .map((b) => bindingKey(namespace, b.metadata.name));
}

/**
 * What about a binding can change what a reconcile does: its spec (generation), deletion and
 * finalizers. Status is not in it: the operator's own status write must not queue the binding
 * again, or a failing binding's backoff would never grow (controller-runtime's
 * GenerationChangedPredicate, plus the deletion and finalizer changes that predicate misses).
 */
export function bindingFingerprint(binding: PodIdentityBinding): string {
  const { generation, deletionTimestamp, finalizers, labels } = binding.metadata;
  return JSON.stringify([generation, deletionTimestamp ?? null, finalizers ?? [], labels ?? {}]);
}

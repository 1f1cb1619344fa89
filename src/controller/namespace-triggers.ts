import type { PodIdentityBinding } from '../api/types.ts';
import type { InformerEvent } from '../kube/informer.ts';
import { bindingKey } from './triggers.ts';

type Labels = Readonly<Record<string, string>> | undefined;

/**
 * Does a Namespace event change what a reconcile or pod check reads? Its labels decide Ready's
 * opt-in message, which AccountMapping routes its bindings and what the webhook injects, so any
 * label added, removed or changed matters; an update that only moved resourceVersion (an
 * annotation, a finalizer, the status) does not. An add matters: whatever the cache said before
 * was nothing, so a pass may have read a fallback GET from before the change, or nothing at all.
 * A delete does not: the namespace's bindings go with it and their own deletes queue them.
 */
export function namespaceChangeMatters(
  event: InformerEvent,
  labels: Labels,
  previous: Labels,
): boolean {
  if (event === 'delete') return false;
  if (event === 'add') return true;
  return !sameLabels(labels, previous);
}

function sameLabels(a: Labels, b: Labels): boolean {
  const left = Object.entries(a ?? {});
  if (left.length !== Object.keys(b ?? {}).length) return false;
  return left.every(([key, value]) => b?.[key] === value);
}

/** The bindings to look at again after a Namespace event: all of that namespace's, or none. */
export function keysForNamespace(
  event: InformerEvent,
  labels: Labels,
  previous: Labels,
  sameNamespace: readonly PodIdentityBinding[],
): string[] {
  if (!namespaceChangeMatters(event, labels, previous)) return [];
  return sameNamespace.map((b) => bindingKey(b.metadata.namespace, b.metadata.name));
}

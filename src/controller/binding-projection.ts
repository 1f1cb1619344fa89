import type { PodIdentityBinding } from '../api/types.ts';
import { ANNOTATION_TAKE_OVER_RETAINED_ROLE } from './decide.ts';

/**
 * What the controller's cache keeps of a binding: spec, status and the metadata it reads, as one
 * fresh literal. Dropped: managedFields and every annotation but the take-over opt-in (a
 * `kubectl apply`'d binding carries a full copy of itself in last-applied-configuration).
 */
export function projectBinding(binding: PodIdentityBinding): PodIdentityBinding {
  const m = binding.metadata;
  const takeOver = m.annotations?.[ANNOTATION_TAKE_OVER_RETAINED_ROLE];
  return {
    apiVersion: binding.apiVersion,
    kind: binding.kind,
    metadata: {
      name: m.name,
      namespace: m.namespace,
      uid: m.uid,
      generation: m.generation,
      resourceVersion: m.resourceVersion,
      creationTimestamp: m.creationTimestamp,
      deletionTimestamp: m.deletionTimestamp,
      finalizers: m.finalizers,
      labels: m.labels,
      ...(takeOver === undefined
        ? {}
        : { annotations: { [ANNOTATION_TAKE_OVER_RETAINED_ROLE]: takeOver } }),
    },
    spec: binding.spec,
    ...(binding.status ? { status: binding.status } : {}),
  };
}

import type { PodIdentityBinding } from '../api/types.ts';
import type { InvolvedObject } from '../kube/events.ts';

/** The object an Event about a binding is attached to. */
export function involvedObject(binding: PodIdentityBinding): InvolvedObject {
  return {
    apiVersion: binding.apiVersion,
    kind: binding.kind,
    namespace: binding.metadata.namespace,
    name: binding.metadata.name,
    uid: binding.metadata.uid,
  };
}

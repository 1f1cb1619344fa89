import type { EventSink } from '../kube/events.ts';
import type { Namespace, ServiceAccount } from './types.ts';

export type { EventSink };

/**
 * Where the admission handler reads ServiceAccounts and Namespaces. The Kubernetes adapter
 * (src/kube/webhook-lookup.ts) answers from informer caches first and, on a miss, with a direct
 * API read bounded by a short timeout: the ServiceAccount created a moment before its pod (in the
 * same `kubectl apply`) is the top complaint about AWS's webhook.
 *
 * `undefined` means "does not exist"; a rejected promise means "could not tell" (timeout, API
 * down), which the handler treats like a missing ServiceAccount but reports differently.
 */
export interface IdentityLookup {
  serviceAccount(namespace: string, name: string): Promise<ServiceAccount | undefined>;
  namespace(name: string): Promise<Namespace | undefined>;
  /** True once the caches have listed everything; gates /readyz. */
  hasSynced(): boolean;
}

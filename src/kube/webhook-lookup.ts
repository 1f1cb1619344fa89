import type { V1Namespace, V1ServiceAccount } from '@kubernetes/client-node';
import type { IdentityLookup } from '../webhook/ports.ts';
import type { KubeConnection } from './connect.ts';
import type { ResilientInformer } from './informer.ts';
import { NamespaceClient, namespaceInformer } from './namespaces.ts';
import { ServiceAccountClient, serviceAccountInformer } from './service-accounts.ts';

export interface WebhookLookupOptions {
  /** Bound on the direct GET after a cache miss; the apiserver's webhook timeout is seconds. */
  directReadTimeoutMs?: number;
  onError?: (error: unknown, retryInMs: number) => void;
  /**
   * A ServiceAccount informer shared with the controller (the manager owns and starts it, so
   * one cache serves both). Started and stopped here when not given.
   */
  serviceAccounts?: ResilientInformer<V1ServiceAccount>;
  /** The metadata-only Namespace informer, shared the same way (namespaces.ts). */
  namespaces?: ResilientInformer<V1Namespace>;
}

export interface WebhookLookup extends IdentityLookup {
  stop(): Promise<void>;
}

/**
 * The webhook's IdentityLookup over two informers (ServiceAccounts and Namespaces, all
 * namespaces) plus direct reads on a miss. Every replica runs it; readiness waits for both
 * initial lists. Needs RBAC: get/list/watch serviceaccounts and namespaces.
 */
export async function startWebhookLookup(
  clients: KubeConnection,
  options: WebhookLookupOptions = {},
): Promise<WebhookLookup> {
  const timeoutMs = options.directReadTimeoutMs ?? 1000;
  const ownsServiceAccounts = options.serviceAccounts === undefined;
  const saInformer =
    options.serviceAccounts ??
    serviceAccountInformer(clients, options.onError ? { onError: options.onError } : {});
  const ownsNamespaces = options.namespaces === undefined;
  const nsInformer =
    options.namespaces ??
    namespaceInformer(clients, options.onError ? { onError: options.onError } : {});
  const serviceAccounts = new ServiceAccountClient(clients.rest, saInformer);
  const namespaces = new NamespaceClient(clients.rest, nsInformer);
  // Not awaited to completion on failure: the informers retry by themselves, /readyz says when.
  await Promise.all([
    ownsServiceAccounts ? saInformer.start() : undefined,
    ownsNamespaces ? nsInformer.start() : undefined,
  ]);
  return {
    async serviceAccount(namespace, name) {
      const sa = await serviceAccounts.read(namespace, name, timeoutMs);
      if (!sa) return undefined;
      return {
        metadata: {
          name: sa.name,
          namespace: sa.namespace,
          annotations: sa.annotations,
          labels: sa.labels,
        },
      };
    },
    async namespace(name) {
      const ns = await namespaces.read(name, timeoutMs);
      return ns ? { metadata: { name: ns.name, labels: ns.labels } } : undefined;
    },
    hasSynced: () => saInformer.hasSynced() && nsInformer.hasSynced(),
    stop: async () => {
      await Promise.all([
        ownsServiceAccounts ? saInformer.stop() : undefined,
        ownsNamespaces ? nsInformer.stop() : undefined,
      ]);
    },
  };
}

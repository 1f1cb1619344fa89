import type { V1Lease } from '@kubernetes/client-node';
import { isNotFound } from './api-status.ts';
import type { KubeRest } from './rest.ts';

/** The Lease calls leader election makes; each one ends when `signal` aborts. */
export interface LeaseClient {
  /** undefined when the Lease does not exist. */
  read(signal: AbortSignal): Promise<V1Lease | undefined>;
  create(spec: V1Lease['spec'], signal: AbortSignal): Promise<void>;
  /** Optimistic concurrency on `lease.metadata.resourceVersion`: a 409 means someone else won. */
  replace(lease: V1Lease, signal: AbortSignal): Promise<void>;
}

export function kubeLeaseClient(rest: KubeRest, namespace: string, name: string): LeaseClient {
  const leases = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/leases`;
  const lease = `${leases}/${encodeURIComponent(name)}`;
  return {
    read: async (signal) => {
      try {
        return await rest.get<V1Lease>(lease, { signal });
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    },
    create: async (spec, signal) => {
      await rest.request('POST', leases, {
        body: {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name, namespace },
          spec,
        },
        signal,
      });
    },
    replace: async (body, signal) => {
      await rest.request('PUT', lease, {
        body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', ...body },
        signal,
      });
    },
  };
}

import type { CoordinationV1Api, V1Lease } from '@kubernetes/client-node';
import { isNotFound } from './client.ts';
import { signalOptions } from './deadline.ts';

/** The Lease calls leader election makes; each one ends when `signal` aborts. */
export interface LeaseClient {
  /** undefined when the Lease does not exist. */
  read(signal: AbortSignal): Promise<V1Lease | undefined>;
  create(spec: V1Lease['spec'], signal: AbortSignal): Promise<void>;
  /** Optimistic concurrency on `lease.metadata.resourceVersion`: a 409 means someone else won. */
  replace(lease: V1Lease, signal: AbortSignal): Promise<void>;
}

export function kubeLeaseClient(
  coordination: CoordinationV1Api,
  namespace: string,
  name: string,
): LeaseClient {
  return {
    read: async (signal) => {
      try {
        return await coordination.readNamespacedLease({ name, namespace }, signalOptions(signal));
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    },
    create: async (spec, signal) => {
      await coordination.createNamespacedLease(
        { namespace, body: { metadata: { name, namespace }, spec } },
        signalOptions(signal),
      );
    },
    replace: async (lease, signal) => {
      await coordination.replaceNamespacedLease(
        { name, namespace, body: lease },
        signalOptions(signal),
      );
    },
  };
}

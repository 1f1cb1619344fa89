import type { V1ServiceAccount } from '@kubernetes/client-node';
import { isConflict, isNotFound } from './api-status.ts';
import type { KubeConnection } from './connect.ts';
import {
  startResilientInformer,
  type InformerOptions,
  type ObjectStore,
  type ResilientInformer,
} from './informer.ts';
import { MERGE_PATCH, type KubeRest } from './rest.ts';

/** The cluster-wide ServiceAccount informer (the manager shares one between controller and webhook). */
export function serviceAccountInformer(
  kube: KubeConnection,
  options: Pick<InformerOptions<V1ServiceAccount>, 'onEvent' | 'onError'> = {},
): ResilientInformer<V1ServiceAccount> {
  return startResilientInformer<V1ServiceAccount>({
    name: 'serviceaccounts',
    rest: kube.rest,
    path: '/api/v1/serviceaccounts',
    metadataOnly: true,
    project: projectServiceAccount,
    ...options,
  });
}

/**
 * What the cache keeps of a ServiceAccount: the metadata the controller and webhook read (and
 * resourceVersion for the watch), as one fresh literal. No `secrets`, no managedFields, and no
 * typed V1ObjectMeta with deleted properties (a slow-mode property table per object).
 */
export function projectServiceAccount(sa: V1ServiceAccount): V1ServiceAccount {
  const m = sa.metadata ?? {};
  return {
    metadata: {
      name: m.name,
      namespace: m.namespace,
      uid: m.uid,
      resourceVersion: m.resourceVersion,
      annotations: m.annotations,
      labels: m.labels,
    },
  };
}

/** A ServiceAccount as the controller and webhook see it: plain metadata only. */
export interface ServiceAccountView {
  namespace: string;
  name: string;
  uid: string;
  annotations: Record<string, string>;
  labels: Record<string, string>;
}

export function toServiceAccountView(sa: V1ServiceAccount): ServiceAccountView {
  return {
    namespace: sa.metadata?.namespace ?? '',
    name: sa.metadata?.name ?? '',
    uid: sa.metadata?.uid ?? '',
    annotations: { ...(sa.metadata?.annotations ?? {}) },
    labels: { ...(sa.metadata?.labels ?? {}) },
  };
}

const namespacedPath = (namespace: string): string =>
  `/api/v1/namespaces/${encodeURIComponent(namespace)}/serviceaccounts`;

/**
 * Reads ServiceAccounts from the informer cache (a direct GET on a miss, for the
 * created-a-moment-ago race) and writes annotations with a JSON merge patch, so every other
 * annotation, label and field someone else owns is preserved.
 */
export class ServiceAccountClient {
  readonly #rest: KubeRest;
  readonly #cache: ObjectStore<V1ServiceAccount>;
  readonly #fieldManager: string;

  constructor(
    rest: KubeRest,
    cache: ObjectStore<V1ServiceAccount>,
    fieldManager = 'rrsa-operator',
  ) {
    this.#rest = rest;
    this.#cache = cache;
    this.#fieldManager = fieldManager;
  }

  fromCache(namespace: string, name: string): ServiceAccountView | undefined {
    const sa = this.#cache.get(name, namespace);
    return sa ? toServiceAccountView(sa) : undefined;
  }

  async read(
    namespace: string,
    name: string,
    timeoutMs = 1000,
  ): Promise<ServiceAccountView | undefined> {
    const cached = this.fromCache(namespace, name);
    if (cached) return cached;
    try {
      const sa = await withTimeout(
        this.#rest.get<V1ServiceAccount>(
          `${namespacedPath(namespace)}/${encodeURIComponent(name)}`,
          { signal: AbortSignal.timeout(timeoutMs + 1000) },
        ),
        timeoutMs,
      );
      return toServiceAccountView(sa);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /** Sets (string) or removes (null) annotations. */
  async patchAnnotations(
    namespace: string,
    name: string,
    annotations: Record<string, string | null>,
  ): Promise<void> {
    await this.#rest.request('PATCH', `${namespacedPath(namespace)}/${encodeURIComponent(name)}`, {
      query: { fieldManager: this.#fieldManager },
      body: { metadata: { annotations } },
      contentType: MERGE_PATCH,
    });
  }

  /** Creates the ServiceAccount; an existing one is left as it is (and reported as such). */
  async create(
    namespace: string,
    name: string,
    annotations: Record<string, string>,
    labels: Record<string, string>,
  ): Promise<'created' | 'exists'> {
    try {
      await this.#rest.request('POST', namespacedPath(namespace), {
        query: { fieldManager: this.#fieldManager },
        body: {
          apiVersion: 'v1',
          kind: 'ServiceAccount',
          metadata: { name, namespace, annotations, labels },
        },
      });
      return 'created';
    } catch (error) {
      if (isConflict(error)) return 'exists';
      throw error;
    }
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms}ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

import { FINALIZER, type PodIdentityBinding, type PodIdentityBindingStatus } from '../api/types.ts';
import type { BindingStore } from '../controller/types.ts';
import { isNotFound } from './api-status.ts';
import { BindingClient, bindingPath } from './bindings.ts';
import type { ObjectStore } from './informer.ts';
import type { KubeRest } from './rest.ts';
import { serviceAccountKey, type IndexFunc } from './store-index.ts';

export { serviceAccountKey } from './store-index.ts';

/** The binding cache's index of bindings by the ServiceAccount they name. */
export const BY_SERVICE_ACCOUNT = 'serviceAccount';

export const bindingsByServiceAccount: IndexFunc<PodIdentityBinding> = (binding) => [
  serviceAccountKey(binding.metadata.namespace, binding.spec?.serviceAccountName ?? ''),
];

/** A binding cache with the BY_SERVICE_ACCOUNT index (a ResilientInformer made with it). */
export interface IndexedBindingCache extends ObjectStore<PodIdentityBinding> {
  byIndex(index: string, key: string): readonly PodIdentityBinding[];
}

const STATUS_FIELDS: (keyof PodIdentityBindingStatus)[] = [
  'observedGeneration',
  'conditions',
  'roleName',
  'roleArn',
  'accountId',
  'oidcProviderArn',
  'roleOwnership',
  'attachedPolicies',
  'inlinePolicies',
  'pods',
];

/** The controller's view of PodIdentityBindings: the informer cache, a GET on a miss, writes. */
export class KubeBindingStore implements BindingStore {
  readonly #rest: KubeRest;
  readonly #cache: IndexedBindingCache;
  readonly #client: BindingClient;

  constructor(rest: KubeRest, cache: IndexedBindingCache) {
    this.#rest = rest;
    this.#cache = cache;
    this.#client = new BindingClient(rest);
  }

  async get(namespace: string, name: string): Promise<PodIdentityBinding | undefined> {
    const cached = this.#cache.get(name, namespace);
    if (cached) return cached;
    try {
      return await this.#rest.get<PodIdentityBinding>(bindingPath(namespace, name));
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  forServiceAccount(namespace: string, serviceAccountName: string): readonly PodIdentityBinding[] {
    return this.#cache.byIndex(
      BY_SERVICE_ACCOUNT,
      serviceAccountKey(namespace, serviceAccountName),
    );
  }

  /** A merge patch of the whole status; fields that are no longer set are removed (null). */
  async patchStatus(binding: PodIdentityBinding, status: PodIdentityBindingStatus): Promise<void> {
    const body: Record<string, unknown> = {};
    for (const field of STATUS_FIELDS) body[field] = status[field] ?? null;
    await this.#client.patchStatus(
      binding.metadata.namespace,
      binding.metadata.name,
      body,
      binding.metadata.resourceVersion,
    );
  }

  async addFinalizer(binding: PodIdentityBinding): Promise<void> {
    await this.#client.addFinalizer(ref(binding), FINALIZER);
  }

  async removeFinalizer(binding: PodIdentityBinding): Promise<void> {
    await this.#client.removeFinalizer(ref(binding), FINALIZER);
  }
}

function ref(binding: PodIdentityBinding): {
  namespace: string;
  name: string;
  resourceVersion: string;
  finalizers: string[];
} {
  return {
    namespace: binding.metadata.namespace,
    name: binding.metadata.name,
    resourceVersion: binding.metadata.resourceVersion ?? '',
    finalizers: binding.metadata.finalizers ?? [],
  };
}

import type { CoreV1Api, V1Namespace } from '@kubernetes/client-node';
import { isNotFound } from './client.ts';
import type { ObjectStore } from './informer.ts';
import { withTimeout } from './timeout.ts';

/** A Namespace as the webhook needs it: name and labels. */
export interface NamespaceView {
  name: string;
  labels: Record<string, string>;
}

/** Namespaces from an informer cache, with a bounded direct GET for one created a moment ago. */
export class NamespaceClient {
  readonly #core: CoreV1Api;
  readonly #cache: ObjectStore<V1Namespace>;

  constructor(core: CoreV1Api, cache: ObjectStore<V1Namespace>) {
    this.#core = core;
    this.#cache = cache;
  }

  async read(name: string, timeoutMs = 1000): Promise<NamespaceView | undefined> {
    const cached = this.#cache.get(name);
    if (cached) return toView(cached);
    try {
      return toView(
        await withTimeout(this.#core.readNamespace({ name }), timeoutMs, `GET namespace ${name}`),
      );
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }
}

function toView(ns: V1Namespace): NamespaceView {
  return { name: ns.metadata?.name ?? '', labels: { ...(ns.metadata?.labels ?? {}) } };
}

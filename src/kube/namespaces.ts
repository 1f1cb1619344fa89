import type { V1Namespace } from '@kubernetes/client-node';
import { isNotFound } from './api-status.ts';
import type { ObjectStore } from './informer.ts';
import type { KubeRest } from './rest.ts';
import { withTimeout } from './timeout.ts';

/** A Namespace as the webhook needs it: name and labels. */
export interface NamespaceView {
  name: string;
  labels: Record<string, string>;
}

export const namespacePath = (name: string): string =>
  `/api/v1/namespaces/${encodeURIComponent(name)}`;

/** Namespaces from an informer cache, with a bounded direct GET for one created a moment ago. */
export class NamespaceClient {
  readonly #rest: KubeRest;
  readonly #cache: ObjectStore<V1Namespace>;

  constructor(rest: KubeRest, cache: ObjectStore<V1Namespace>) {
    this.#rest = rest;
    this.#cache = cache;
  }

  async read(name: string, timeoutMs = 1000): Promise<NamespaceView | undefined> {
    const cached = this.#cache.get(name);
    if (cached) return toView(cached);
    try {
      return toView(
        await withTimeout(
          this.#rest.get<V1Namespace>(namespacePath(name), {
            signal: AbortSignal.timeout(timeoutMs + 1000),
          }),
          timeoutMs,
          `GET namespace ${name}`,
        ),
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

/**
 * The controller's view: does a namespace opt in to injection? One bounded GET per reconcile of
 * a converged binding (cheap beside its RAM reads); undefined when it cannot be read, so an
 * unreadable namespace never changes what Ready says.
 */
export function namespaceOptIn(
  rest: KubeRest,
  label: string,
  timeoutMs = 2000,
): { injectionEnabled(namespace: string): Promise<boolean | undefined> } {
  return {
    async injectionEnabled(namespace: string): Promise<boolean | undefined> {
      try {
        const ns = await withTimeout(
          rest.get<V1Namespace>(namespacePath(namespace), {
            signal: AbortSignal.timeout(timeoutMs + 1000),
          }),
          timeoutMs,
          `GET namespace ${namespace}`,
        );
        return ns.metadata?.labels?.[label] === 'on';
      } catch {
        return undefined;
      }
    },
  };
}

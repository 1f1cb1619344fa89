import type { V1Namespace } from '@kubernetes/client-node';
import { isNotFound } from './api-status.ts';
import type { KubeConnection } from './connect.ts';
import {
  startResilientInformer,
  type InformerOptions,
  type ObjectStore,
  type ResilientInformer,
} from './informer.ts';
import type { KubeRest } from './rest.ts';
import { withTimeout } from './timeout.ts';

/** A Namespace as the webhook and the controller need it: name and labels. */
export interface NamespaceView {
  name: string;
  labels: Record<string, string>;
}

export const namespacePath = (name: string): string =>
  `/api/v1/namespaces/${encodeURIComponent(name)}`;

/**
 * The cluster-wide, metadata-only Namespace informer. The manager owns one and shares it between
 * the webhook (injection opt-in, override labels) and the controller (Ready's opt-in message,
 * account routing by labels, the pod checks), as it shares the ServiceAccount informer.
 */
export function namespaceInformer(
  kube: KubeConnection,
  options: Pick<InformerOptions<V1Namespace>, 'onEvent' | 'onError'> = {},
): ResilientInformer<V1Namespace> {
  return startResilientInformer<V1Namespace>({
    name: 'namespaces',
    rest: kube.rest,
    path: '/api/v1/namespaces',
    metadataOnly: true,
    project: projectNamespace,
    ...options,
  });
}

/** What the cache keeps of a Namespace: name, resourceVersion (for the watch) and labels. */
export function projectNamespace(ns: V1Namespace): V1Namespace {
  const m = ns.metadata ?? {};
  return { metadata: { name: m.name, resourceVersion: m.resourceVersion, labels: m.labels } };
}

/**
 * Namespaces from the informer cache, with one bounded direct GET on a miss (a namespace created
 * a moment ago, or the cache not synced yet). Undefined when the namespace does not exist; any
 * other failure of that GET throws.
 */
export class NamespaceClient {
  readonly #rest: Pick<KubeRest, 'get'>;
  readonly #cache: ObjectStore<V1Namespace>;

  constructor(rest: Pick<KubeRest, 'get'>, cache: ObjectStore<V1Namespace>) {
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
 * The controller's view: does a namespace opt in to injection? From the shared cache; undefined
 * when it cannot be read (gone, or the fallback GET failed), so an unreadable namespace never
 * changes what Ready says.
 */
export function namespaceOptIn(
  namespaces: NamespaceClient,
  label: string,
  timeoutMs = 2000,
): { injectionEnabled(namespace: string): Promise<boolean | undefined> } {
  return {
    async injectionEnabled(namespace: string): Promise<boolean | undefined> {
      try {
        const ns = await namespaces.read(namespace, timeoutMs);
        return ns ? ns.labels[label] === 'on' : undefined;
      } catch {
        return undefined;
      }
    },
  };
}

/** A namespace's labels for account routing; undefined when it cannot be read. */
export function namespaceLabels(
  namespaces: NamespaceClient,
  timeoutMs = 2000,
): (namespace: string) => Promise<Record<string, string> | undefined> {
  return async (namespace) => {
    try {
      return (await namespaces.read(namespace, timeoutMs))?.labels;
    } catch {
      return undefined;
    }
  };
}

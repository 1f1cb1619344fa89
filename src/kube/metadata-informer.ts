import {
  ListWatch,
  Watch,
  type KubeConfig,
  type KubernetesObject,
  type V1ObjectMeta,
} from '@kubernetes/client-node';
import type { InformerFactory, InformerLike } from './informer.ts';

/**
 * Metadata-only list/watch: the apiserver answers with PartialObjectMetadata (no spec, no secrets
 * list), and each object is projected into one small plain literal before client-node caches it.
 * Keeps what the controller and webhook read of a ServiceAccount (name, namespace, uid,
 * annotations, labels, resourceVersion for the watch). A fresh literal of one shape, instead of
 * a typed V1ObjectMeta with properties deleted, also keeps V8 from giving each cached object a
 * slow-mode (dictionary) property table.
 */
export const METADATA_LIST_ACCEPT =
  'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1';
export const METADATA_WATCH_ACCEPT = 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1';

/** The cached shape: metadata only. */
export interface MetadataObject extends KubernetesObject {
  metadata: Pick<
    V1ObjectMeta,
    'name' | 'namespace' | 'uid' | 'resourceVersion' | 'annotations' | 'labels'
  >;
}

export function projectMetadata(object: KubernetesObject): MetadataObject {
  const m = object.metadata ?? {};
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

type WatchCallback = (phase: string, object: KubernetesObject, raw: unknown) => void;

/** client-node's Watch asking for PartialObjectMetadata; every event's object projected. */
function metadataWatch(kubeConfig: KubeConfig): Watch {
  // Watch uses only these two members of its config; the header goes on after authentication.
  const config = {
    getCurrentCluster: () => kubeConfig.getCurrentCluster(),
    applySecurityAuthentication: async (ctx: {
      setHeaderParam(key: string, value: string): void;
    }) => {
      await kubeConfig.applySecurityAuthentication(ctx as never);
      ctx.setHeaderParam('Accept', METADATA_WATCH_ACCEPT);
    },
  };
  const inner = new Watch(config as unknown as KubeConfig);
  const watch = {
    watch: (
      path: string,
      query: Record<string, string | number | boolean | undefined>,
      callback: WatchCallback,
      done: (error: unknown) => void,
    ) =>
      inner.watch(
        path,
        query,
        (phase: string, object: KubernetesObject, raw: unknown) =>
          // ERROR carries a Status (its code says 410 Gone): passed through as it is.
          callback(phase, phase === 'ERROR' ? object : projectMetadata(object), raw),
        done,
      ),
  };
  return watch as unknown as Watch;
}

/** An InformerFactory whose cache holds MetadataObjects (the list function must project too). */
export const metadataInformerFactory: InformerFactory = <T extends KubernetesObject>(
  kubeConfig: KubeConfig,
  path: string,
  list: () => Promise<{ metadata?: { resourceVersion?: string }; items: T[] }>,
  labelSelector?: string,
): InformerLike<T> =>
  new ListWatch<T>(
    path,
    metadataWatch(kubeConfig),
    list,
    false,
    labelSelector,
  ) as unknown as InformerLike<T>;

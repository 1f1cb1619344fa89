import {
  ListWatch,
  PatchStrategy,
  Watch,
  setHeaderOptions,
  type KubeConfig,
  type KubernetesObject,
} from '@kubernetes/client-node';
import type { OwnerRef } from './pod-view.ts';
import { projectPod, type PodView, type RawPod } from './pod-view.ts';
import { isNotFound, type KubeClients } from './client.ts';
import {
  startResilientInformer,
  type InformerFactory,
  type InformerLike,
  type InformerOptions,
  type ResilientInformer,
} from './informer.ts';

type WatchCallback = (phase: string, object: unknown, raw: unknown) => void;

/**
 * client-node's ListWatch caches the very object a watch event carries. This wraps the real
 * Watch (same kubeconfig, same request) and hands the cache each pod projected into a PodView,
 * so no full pod is ever kept; the list function projects its items the same way. ERROR events
 * carry a Status (410 Gone) and pass through untouched, so relists work as before.
 */
const projectingFactory: InformerFactory = <T extends KubernetesObject>(
  kubeConfig: KubeConfig,
  path: string,
  list: () => Promise<{ metadata?: { resourceVersion?: string }; items: T[] }>,
  labelSelector?: string,
): InformerLike<T> => {
  const inner = new Watch(kubeConfig);
  const watch = {
    watch: (
      watchPath: string,
      query: Record<string, string | number | boolean | undefined>,
      callback: WatchCallback,
      done: (error: unknown) => void,
    ) =>
      inner.watch(
        watchPath,
        query,
        (phase: string, object: unknown, raw: unknown) =>
          callback(phase, phase === 'ERROR' ? object : toCached(object as RawPod), raw),
        done,
      ),
  };
  return new ListWatch<T>(
    path,
    watch as unknown as Watch,
    list,
    false,
    labelSelector,
  ) as unknown as InformerLike<T>;
};

/** The cache entry: a PodView whose metadata also satisfies client-node's KubernetesObject. */
function toCached(pod: RawPod): PodView {
  return projectPod(pod);
}

/** Every pod in the cluster, projected (see PodView): the pod-identity checks' only pod read. */
export function podInformer(
  kube: KubeClients,
  options: Pick<InformerOptions<KubernetesObject>, 'onEvent' | 'onError'> = {},
): ResilientInformer<PodView> {
  return startResilientInformer<KubernetesObject>({
    name: 'pods',
    kubeConfig: kube.kubeConfig,
    path: '/api/v1/pods',
    list: async () => {
      const list = await kube.core.listPodForAllNamespaces();
      return {
        ...list,
        items: list.items.map((pod) => toCached(pod as unknown as RawPod) as KubernetesObject),
      };
    },
    informerFactory: projectingFactory,
    ...options,
  }) as unknown as ResilientInformer<PodView>;
}

/** A workload that can be rollout-restarted. */
export type WorkloadKind = 'Deployment' | 'StatefulSet' | 'DaemonSet';

export interface WorkloadRef {
  kind: WorkloadKind;
  namespace: string;
  name: string;
}

const MERGE_PATCH = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/**
 * The apps/v1 reads and writes of the pod-identity checks: which workload owns a ReplicaSet
 * (get replicasets), and the rollout restart (get + patch of deployments, statefulsets,
 * daemonsets: config/pod-restart, granted only where restarts are allowed).
 */
export class WorkloadClient {
  readonly #kube: KubeClients;

  constructor(kube: KubeClients) {
    this.#kube = kube;
  }

  /** The Deployment of a ReplicaSet; the ReplicaSet itself when nothing controls it. */
  async replicaSetOwner(namespace: string, name: string): Promise<OwnerRef | undefined> {
    try {
      const rs = await this.#kube.apps.readNamespacedReplicaSet({ namespace, name });
      const ref = rs.metadata?.ownerReferences?.find((r) => r.controller === true);
      return ref ? { kind: ref.kind, name: ref.name, uid: ref.uid } : undefined;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /** The workload's annotations; undefined when it does not exist. */
  async annotations(ref: WorkloadRef): Promise<Record<string, string> | undefined> {
    const { namespace, name } = ref;
    try {
      const object =
        ref.kind === 'Deployment'
          ? await this.#kube.apps.readNamespacedDeployment({ namespace, name })
          : ref.kind === 'StatefulSet'
            ? await this.#kube.apps.readNamespacedStatefulSet({ namespace, name })
            : await this.#kube.apps.readNamespacedDaemonSet({ namespace, name });
      return { ...(object.metadata?.annotations ?? {}) };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /** One merge patch: workload annotations and pod-template annotations together. */
  async patch(
    ref: WorkloadRef,
    annotations: Record<string, string>,
    templateAnnotations: Record<string, string>,
  ): Promise<void> {
    const { namespace, name } = ref;
    const body = {
      metadata: { annotations },
      spec: { template: { metadata: { annotations: templateAnnotations } } },
    };
    const param = { namespace, name, body, fieldManager: 'rrsa-operator' };
    if (ref.kind === 'Deployment')
      await this.#kube.apps.patchNamespacedDeployment(param, MERGE_PATCH);
    else if (ref.kind === 'StatefulSet')
      await this.#kube.apps.patchNamespacedStatefulSet(param, MERGE_PATCH);
    else await this.#kube.apps.patchNamespacedDaemonSet(param, MERGE_PATCH);
  }
}

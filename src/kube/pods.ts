import type { KubernetesObject } from '@kubernetes/client-node';
import { isNotFound } from './api-status.ts';
import type { KubeConnection } from './connect.ts';
import {
  startResilientInformer,
  type InformerOptions,
  type ResilientInformer,
} from './informer.ts';
import type { OwnerRef } from './pod-view.ts';
import { projectPod, type PodView } from './pod-view.ts';
import { MERGE_PATCH, type KubeRest } from './rest.ts';
import { serviceAccountKey } from './store-index.ts';

/**
 * Every pod in the cluster, projected into a PodView before it is cached (the list's items and
 * every watch event alike), so no full pod is ever kept: the pod-identity checks' only pod read.
 */
/** The pod cache's index by ServiceAccount (namespace/name; an unset name is "default"). */
export const PODS_BY_SERVICE_ACCOUNT = 'serviceAccount';

export function podInformer(
  kube: KubeConnection,
  options: Pick<InformerOptions<KubernetesObject>, 'onEvent' | 'onError'> = {},
): ResilientInformer<PodView> {
  return startResilientInformer<KubernetesObject>({
    name: 'pods',
    rest: kube.rest,
    path: '/api/v1/pods',
    project: (pod) => projectPod(pod),
    indexes: {
      [PODS_BY_SERVICE_ACCOUNT]: (pod) => [
        serviceAccountKey(
          pod.metadata?.namespace ?? '',
          (pod as unknown as PodView).spec?.serviceAccountName ?? 'default',
        ),
      ],
    },
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

/**
 * The apps/v1 reads and writes of the pod-identity checks: which workload owns a ReplicaSet
 * (get replicasets), and the rollout restart (get + patch of deployments, statefulsets,
 * daemonsets: config/pod-restart, granted only where restarts are allowed).
 */
export class WorkloadClient {
  readonly #rest: KubeRest;

  constructor(kube: KubeConnection) {
    this.#rest = kube.rest;
  }

  /** The Deployment of a ReplicaSet; the ReplicaSet itself when nothing controls it. */
  async replicaSetOwner(namespace: string, name: string): Promise<OwnerRef | undefined> {
    const rs = await this.#read(appsPath(namespace, 'replicasets', name));
    const ref = rs?.metadata?.ownerReferences?.find((r) => r.controller === true);
    return ref ? { kind: ref.kind, name: ref.name, uid: ref.uid } : undefined;
  }

  /** The workload's annotations; undefined when it does not exist. */
  async annotations(ref: WorkloadRef): Promise<Record<string, string> | undefined> {
    const object = await this.#read(workloadPath(ref));
    return object ? { ...(object.metadata?.annotations ?? {}) } : undefined;
  }

  /** One merge patch: workload annotations and pod-template annotations together. */
  async patch(
    ref: WorkloadRef,
    annotations: Record<string, string>,
    templateAnnotations: Record<string, string>,
  ): Promise<void> {
    await this.#rest.request('PATCH', workloadPath(ref), {
      query: { fieldManager: 'rrsa-operator' },
      body: {
        metadata: { annotations },
        spec: { template: { metadata: { annotations: templateAnnotations } } },
      },
      contentType: MERGE_PATCH,
    });
  }

  async #read(path: string): Promise<AppsObject | undefined> {
    try {
      return await this.#rest.get<AppsObject>(path);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }
}

interface AppsObject {
  metadata?: {
    annotations?: Record<string, string>;
    ownerReferences?: { kind: string; name: string; uid: string; controller?: boolean }[];
  };
}

const PLURAL: Record<WorkloadKind, string> = {
  Deployment: 'deployments',
  StatefulSet: 'statefulsets',
  DaemonSet: 'daemonsets',
};

function appsPath(namespace: string, plural: string, name: string): string {
  return `/apis/apps/v1/namespaces/${encodeURIComponent(namespace)}/${plural}/${encodeURIComponent(name)}`;
}

function workloadPath(ref: WorkloadRef): string {
  return appsPath(ref.namespace, PLURAL[ref.kind], ref.name);
}

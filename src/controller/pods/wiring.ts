import type { V1ServiceAccount } from '@kubernetes/client-node';
import type { PodIdentityBinding } from '../../api/types.ts';
import {
  BY_SERVICE_ACCOUNT,
  KubeBindingStore,
  serviceAccountKey,
} from '../../kube/binding-store.ts';
import type { KubeConnection } from '../../kube/connect.ts';
import type { NamespaceClient } from '../../kube/namespaces.ts';
import type { EventSink } from '../../kube/events.ts';
import { logInformerError, type ResilientInformer } from '../../kube/informer.ts';
import type { PodView } from '../../kube/pod-view.ts';
import { podInformer, PODS_BY_SERVICE_ACCOUNT, WorkloadClient } from '../../kube/pods.ts';
import { levelled, type Logger } from '../../runtime/logger.ts';
import type { BackoffOptions } from '../../runtime/workqueue.ts';
import type { InjectionConfig } from '../../webhook/config.ts';
import type { Namespace, ServiceAccount } from '../../webhook/types.ts';
import { bindingKey } from '../triggers.ts';
import { PodCheckLoop } from './pod-check-loop.ts';
import type { PodVerdictPort } from '../types.ts';
import { PodChecks } from './pod-checks.ts';
import { podVerdictSource } from './verdict-source.ts';

export interface PodChecksOptions {
  /** The webhook's configuration (the manager builds one for both). */
  injection: InjectionConfig;
  /** --allow-pod-restart: bindings with spec.restartStalePods may restart workloads. */
  allowPodRestart: boolean;
  restartsPerMinute?: number;
}

export interface RunningPodChecks {
  enqueue(key: string): void;
  onBindingDeleted(namespace: string, name: string): void;
  hasSynced(): boolean;
  /** The verdict the reconciler folds into its own status write (controller/types.ts). */
  verdicts: PodVerdictPort;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** The pod informer, the checks and their loop, over the controller's caches. */
export function startPodChecks(
  options: PodChecksOptions & {
    kube: KubeConnection;
    bindings: ResilientInformer<PodIdentityBinding>;
    serviceAccounts: ResilientInformer<V1ServiceAccount>;
    /** Over the shared Namespace cache (a direct GET only on a miss). */
    namespaces: NamespaceClient;
    events: EventSink;
    logger: Logger;
    resyncMs: number;
    staleGauge?: { set(labels: { namespace: string }, value: number): void } | undefined;
    backoff?: BackoffOptions | undefined;
  },
): RunningPodChecks {
  const { kube, bindings, serviceAccounts, namespaces } = options;
  // The namespace's labels, as the webhook reads them; undefined when it is gone.
  const namespace = async (name: string): Promise<Namespace | undefined> => {
    const ns = await namespaces.read(name, 5000);
    return ns ? { metadata: { name, labels: ns.labels } } : undefined;
  };
  const serviceAccount = (namespace: string, name: string): ServiceAccount | undefined => {
    const sa = serviceAccounts.get(name, namespace);
    return sa
      ? { metadata: { name, namespace, annotations: sa.metadata?.annotations ?? {} } }
      : undefined;
  };
  const checks = new PodChecks({
    bindings: new KubeBindingStore(kube.rest, bindings),
    serviceAccount,
    namespace,
    pods: {
      ofServiceAccount: (ns, sa) =>
        pods.byIndex(PODS_BY_SERVICE_ACCOUNT, serviceAccountKey(ns, sa)),
      hasSynced: () => pods.hasSynced(),
    },
    workloads: new WorkloadClient(kube),
    events: options.events,
    injection: options.injection,
    allowPodRestart: options.allowPodRestart,
    now: () => new Date(),
    resyncMs: () => options.resyncMs,
    staleGauge: options.staleGauge,
    ...(options.restartsPerMinute ? { restartsPerMinute: options.restartsPerMinute } : {}),
  });
  const loop = new PodCheckLoop(checks, options.logger, options.backoff);
  const pods: ResilientInformer<PodView> = podInformer(kube, {
    onEvent: (_event, object) => {
      const pod = object as unknown as PodView;
      const ns = pod.metadata.namespace;
      loop.onPod(
        ns,
        pod.spec.serviceAccountName,
        bindings.byIndex(BY_SERVICE_ACCOUNT, serviceAccountKey(ns, pod.spec.serviceAccountName)),
      );
    },
    onError: logInformerError(levelled(options.logger), 'pod'),
  });
  return {
    enqueue: (key) => loop.enqueue(key),
    onBindingDeleted: (namespace, name) => {
      loop.onBindingDeleted(namespace, name);
      loop.enqueue(bindingKey(namespace, name));
    },
    hasSynced: () => pods.hasSynced(),
    verdicts: podVerdictSource({
      pods: {
        ofServiceAccount: (ns, sa) =>
          pods.byIndex(PODS_BY_SERVICE_ACCOUNT, serviceAccountKey(ns, sa)),
        hasSynced: () => pods.hasSynced(),
      },
      namespace,
      injection: options.injection,
      serviceAccount,
    }),
    start: async () => {
      await pods.start();
      loop.start();
    },
    stop: async () => {
      await loop.stop();
      await pods.stop();
    },
  };
}

import type { PodIdentityBinding } from '../../api/types.ts';
import type { PodView } from '../../kube/pod-view.ts';
import type { InjectionConfig } from '../../webhook/config.ts';
import type { Namespace, ServiceAccount } from '../../webhook/types.ts';
import type { PodVerdictPort } from '../types.ts';
import { runningPodsOf, settledVerdict, tallyPods, type PodsVerdict } from './verdict.ts';

export interface PodVerdictSourceDeps {
  pods: {
    ofServiceAccount(namespace: string, serviceAccountName: string): readonly PodView[];
    hasSynced(): boolean;
  };
  /** The namespace's labels (webhook shape); throws when it cannot be read. */
  namespace(name: string): Promise<Namespace | undefined>;
  injection: InjectionConfig;
  /** The ServiceAccount cache the pod checks read (webhook shape). */
  serviceAccount(namespace: string, name: string): ServiceAccount | undefined;
}

/**
 * The pod verdict for the reconciler's own status write, from the pod cache and the pod checks'
 * pure functions, so a binding's first status (Ready and PodsCurrent) is one write, not two.
 * Undefined leaves PodsCurrent and status.pods as they are, for the pod checks to write: the pod
 * cache is not synced yet (an empty cache would say NoPods), the namespace cannot be read, or a
 * pod is stale (its workload and any restart are the pod checks' work).
 */
export function podVerdictSource(deps: PodVerdictSourceDeps): PodVerdictPort {
  return {
    async verdict(
      binding: PodIdentityBinding,
      serviceAccountAnnotations: Record<string, string> | undefined,
    ): Promise<PodsVerdict | undefined> {
      if (!deps.pods.hasSynced()) return undefined;
      const namespace = binding.metadata.namespace;
      const name = binding.spec.serviceAccountName;
      const pods = runningPodsOf(deps.pods.ofServiceAccount(namespace, name), name);
      let ns: Namespace | undefined;
      if (pods.length > 0) {
        try {
          ns = await deps.namespace(namespace);
        } catch {
          return undefined;
        }
      }
      // The annotations as this pass left them (the cache may not have the patch yet), so pods
      // are judged against the role the webhook injects from now on.
      const sa = serviceAccountAnnotations
        ? { metadata: { name, namespace, annotations: serviceAccountAnnotations } }
        : deps.serviceAccount(namespace, name);
      return settledVerdict(tallyPods(pods, sa, ns, deps.injection), name);
    },
  };
}

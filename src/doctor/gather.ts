import type {
  V1ManagedFieldsEntry,
  V1MutatingWebhookConfiguration,
  V1Pod,
  V1ServiceAccount,
} from '@kubernetes/client-node';
import { GROUP, PLURAL, VERSION, type PodIdentityBinding } from '../api/types.ts';
import { isNotFound, statusCodeOf, withApiRetry, type KubeClients } from '../kube/client.ts';
import { projectPod } from '../kube/pod-view.ts';
import { WEBHOOK_CONFIGURATION_NAME, type DoctorInput, type DoctorPod } from './diagnose.ts';

export { WEBHOOK_CONFIGURATION_NAME } from './diagnose.ts';

const ROLE_ANNOTATION_FIELD = 'f:pod-identity.alibabacloud.com/role-name';

export interface DoctorTarget {
  namespace: string;
  pod?: string | undefined;
  serviceAccount?: string | undefined;
}

/** Reads what `diagnose` needs with the caller's own credentials (read-only calls). */
export async function gatherDoctorInput(
  kube: KubeClients,
  target: DoctorTarget,
): Promise<DoctorInput> {
  const namespace = await orUndefined(kube.core.readNamespace({ name: target.namespace }));
  const podObject = target.pod
    ? await orUndefined(
        kube.core.readNamespacedPod({ namespace: target.namespace, name: target.pod }),
      )
    : undefined;
  if (target.pod && !podObject) throw new Error(`pod ${target.namespace}/${target.pod} not found`);
  const serviceAccountName =
    podObject?.spec?.serviceAccountName ?? target.serviceAccount ?? 'default';
  const sa = await orUndefined(
    kube.core.readNamespacedServiceAccount({
      namespace: target.namespace,
      name: serviceAccountName,
    }),
  );
  const bindings = (await withApiRetry(() =>
    kube.custom.listNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      plural: PLURAL,
      namespace: target.namespace,
    }),
  )) as { items: PodIdentityBinding[] };
  // Cluster-scoped: a namespace-scoped user may not read it; that is a gap in what doctor can
  // see, not a failure of the chain.
  let webhookReadable = true;
  const webhook = await orUndefined(
    kube.admissionRegistration.readMutatingWebhookConfiguration({
      name: WEBHOOK_CONFIGURATION_NAME,
    }),
  ).catch((error: unknown) => {
    if (statusCodeOf(error) !== 403) throw error;
    webhookReadable = false;
    return undefined;
  });
  return {
    namespace: namespace && { name: target.namespace, labels: namespace.metadata?.labels ?? {} },
    serviceAccountName,
    serviceAccount: sa && serviceAccountView(sa, bindings.items),
    bindings: bindings.items,
    webhook: webhookReadable ? webhookView(webhook) : { readable: false },
    pod: podObject && toDoctorPod(podObject),
    podView: podObject && projectPod(podObject),
  };
}

/**
 * When the role annotation appeared: from managedFields where the apiserver tracks them, else
 * when the binding for this ServiceAccount became Ready (the operator annotates before that).
 */
function serviceAccountView(
  sa: V1ServiceAccount,
  bindings: readonly PodIdentityBinding[],
): DoctorInput['serviceAccount'] {
  const name = sa.metadata?.name;
  const readySince = bindings
    .filter((b) => b.spec.serviceAccountName === name)
    .map((b) => b.status?.conditions?.find((c) => c.type === 'Ready' && c.status === 'True'))
    .map((c) => c?.lastTransitionTime)
    .find((t) => t !== undefined);
  return {
    annotations: sa.metadata?.annotations ?? {},
    roleAnnotatedAt: annotationTime(sa.metadata?.managedFields) ?? readySince,
  };
}

function webhookView(webhook: V1MutatingWebhookConfiguration | undefined): DoctorInput['webhook'] {
  const hooks = webhook?.webhooks ?? [];
  return {
    readable: true,
    registered: webhook !== undefined,
    caBundle: hooks.length > 0 && hooks.every((w) => (w.clientConfig.caBundle ?? '').length > 0),
    // Endpoint readiness needs EndpointSlice reads; the probe call below is what counts.
    serviceReady: undefined,
  };
}

/** When the role annotation was last written, from managedFields (server-side field tracking). */
function annotationTime(entries: V1ManagedFieldsEntry[] | undefined): string | undefined {
  const times = (entries ?? [])
    .filter((e) => JSON.stringify(e.fieldsV1 ?? {}).includes(ROLE_ANNOTATION_FIELD))
    .map((e) => (e.time ? new Date(e.time).toISOString() : undefined))
    .filter((t): t is string => t !== undefined)
    .sort();
  return times.at(-1);
}

function toDoctorPod(pod: V1Pod): DoctorPod {
  const spec = pod.spec ?? { containers: [] };
  const meta = pod.metadata ?? {};
  const containers = [...(spec.initContainers ?? []), ...spec.containers];
  return {
    name: meta.name ?? '',
    labels: meta.labels ?? {},
    serviceAccountName: spec.serviceAccountName ?? 'default',
    createdAt: new Date(meta.creationTimestamp ?? 0).toISOString(),
    containerEnv: containers.map((c) => ({
      container: c.name,
      env: (c.env ?? []).map((e) => e.name),
    })),
    tokenVolume: tokenVolumeOf(pod),
  };
}

function tokenVolumeOf(pod: V1Pod): DoctorPod['tokenVolume'] {
  const volume = pod.spec?.volumes?.find((v) => v.name === 'rrsa-oidc-token');
  if (!volume) return undefined;
  const token = volume.projected?.sources?.find((s) => s.serviceAccountToken)?.serviceAccountToken;
  return { audience: token?.audience, expirationSeconds: token?.expirationSeconds };
}

async function orUndefined<T>(promise: Promise<T>): Promise<T | undefined> {
  try {
    return await promise;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

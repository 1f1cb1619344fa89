import {
  ENV_OIDC_PROVIDER_ARN,
  ENV_OIDC_TOKEN_FILE,
  ENV_ROLE_ARN,
  TOKEN_MOUNT_PATH,
  TOKEN_VOLUME_NAME,
} from '../webhook/constants.ts';
import type { Container, EnvVar, Pod, Volume, VolumeMount } from '../webhook/types.ts';

/** The pod's controller (ownerReferences[controller=true]), as `kind/name`. */
export interface OwnerRef {
  kind: string;
  name: string;
  uid: string;
}

/**
 * A pod as the pod-identity checks cache it: a webhook `Pod` (so the webhook's own pure decision
 * code reads it unchanged) cut down to what that decision and the report read: the
 * pod-identity.alibabacloud.com labels and annotations, container names, the RRSA env vars, the
 * token mount and the token volume, plus identity, owner and phase. A few hundred bytes per pod
 * instead of a whole V1Pod (images, probes, resources, status of every container).
 */
export interface PodView extends Pod {
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    resourceVersion: string;
    labels: Record<string, string>;
    annotations: Record<string, string>;
  };
  spec: {
    serviceAccountName: string;
    containers: Container[];
    initContainers: Container[];
    volumes: Volume[];
  };
  owner: OwnerRef | undefined;
  /** Pending, Running, ...: Succeeded and Failed pods run nothing and are not counted. */
  phase: string;
  terminating: boolean;
}

/** The env vars that carry the identity (the STS endpoint ones do not decide which role). */
const IDENTITY_ENV = new Set([ENV_ROLE_ARN, ENV_OIDC_PROVIDER_ARN, ENV_OIDC_TOKEN_FILE]);
const KEPT_PREFIX = 'pod-identity.alibabacloud.com/';

interface RawMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  deletionTimestamp?: unknown;
  ownerReferences?: { kind?: string; name?: string; uid?: string; controller?: boolean }[];
}

/** What projectPod reads of a pod from the API (typed V1Pod or plain watch JSON). */
export interface RawPod {
  metadata?: RawMeta;
  spec?: {
    serviceAccountName?: string;
    containers?: Container[];
    initContainers?: Container[];
    volumes?: Volume[];
  };
  status?: { phase?: string };
}

/**
 * Every injected pod repeats the same few strings (role and provider ARNs, the token path) and
 * the same token volume: one shared copy of each instead of one per pod (parsed JSON never
 * shares strings). Bounded: a cluster with more distinct values than this just stops sharing.
 */
const shared = new Map<string, unknown>();
function share<T>(key: string, value: T): T {
  const found = shared.get(key);
  if (found !== undefined) return found as T;
  if (shared.size < 10_000) shared.set(key, value);
  return value;
}
const str = (value: string): string => share(`s:${value}`, value);

function keepPrefixed(map: Record<string, string> | undefined): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [key, value] of Object.entries(map ?? {}))
    if (key.startsWith(KEPT_PREFIX)) kept[key] = value;
  return kept;
}

function projectEnv(env: EnvVar[] | undefined): EnvVar[] | undefined {
  if (!Array.isArray(env)) return undefined;
  const kept = env
    .filter((e) => IDENTITY_ENV.has(e.name))
    // valueFrom's content is irrelevant: its presence alone means "not our value".
    .map((e) =>
      e.valueFrom === undefined
        ? { name: str(e.name), value: str(e.value ?? '') }
        : { name: str(e.name), valueFrom: true },
    );
  return kept;
}

function projectMounts(mounts: VolumeMount[] | undefined): VolumeMount[] | undefined {
  if (!Array.isArray(mounts)) return undefined;
  return mounts
    .filter(
      (m) => m.name === TOKEN_VOLUME_NAME || m.mountPath.replace(/\/+$/, '') === TOKEN_MOUNT_PATH,
    )
    .map((m) => ({ name: str(m.name), mountPath: str(m.mountPath) }));
}

function projectContainers(containers: Container[] | undefined): Container[] {
  if (!Array.isArray(containers)) return [];
  return containers.map((c) => {
    const container: Container = { name: c.name };
    const env = projectEnv(c.env);
    if (env) container.env = env;
    const mounts = projectMounts(c.volumeMounts);
    if (mounts) container.volumeMounts = mounts;
    return container;
  });
}

function projectVolumes(volumes: Volume[] | undefined): Volume[] {
  if (!Array.isArray(volumes)) return [];
  return volumes
    .filter((v) => v.name === TOKEN_VOLUME_NAME)
    .map((v) => {
      const json = JSON.stringify(v);
      // Shared between pods, so frozen: nothing may change one pod's copy.
      return share(`v:${json}`, Object.freeze(JSON.parse(json) as Volume));
    });
}

function controllerOf(meta: RawMeta | undefined): OwnerRef | undefined {
  const ref = meta?.ownerReferences?.find((r) => r.controller === true);
  if (!ref?.kind || !ref.name) return undefined;
  return { kind: ref.kind, name: ref.name, uid: ref.uid ?? '' };
}

function projectMetadata(meta: RawMeta | undefined): PodView['metadata'] {
  return {
    name: meta?.name ?? '',
    namespace: meta?.namespace ?? '',
    uid: meta?.uid ?? '',
    resourceVersion: meta?.resourceVersion ?? '',
    labels: keepPrefixed(meta?.labels),
    annotations: keepPrefixed(meta?.annotations),
  };
}

/** One fresh literal per pod, whatever shape it came in (pure; also used by doctor). */
export function projectPod(pod: RawPod): PodView {
  const meta = pod.metadata;
  const spec = pod.spec ?? {};
  return {
    metadata: projectMetadata(meta),
    spec: {
      serviceAccountName: spec.serviceAccountName || 'default',
      containers: projectContainers(spec.containers),
      initContainers: projectContainers(spec.initContainers),
      volumes: projectVolumes(spec.volumes),
    },
    owner: controllerOf(meta),
    phase: pod.status?.phase ?? 'Pending',
    terminating: meta?.deletionTimestamp !== undefined && meta.deletionTimestamp !== null,
  };
}

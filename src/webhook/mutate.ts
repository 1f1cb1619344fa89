import {
  TOKEN_AUDIENCE,
  TOKEN_FILE_NAME,
  TOKEN_FILE_PATH,
  TOKEN_MOUNT_PATH,
  TOKEN_VOLUME_DEFAULT_MODE,
  TOKEN_VOLUME_NAME,
} from './constants.ts';
import type { InjectionConfig } from './config.ts';
import type { ContainerRef } from './containers.ts';
import { isDeepEqual } from './deep-equal.ts';
import type { DesiredEnvVar, Injection, MutationOutcome } from './resolve.ts';
import { resolveInjection } from './resolve.ts';
import type { JsonPatchOp, Namespace, Pod, ServiceAccount, Volume } from './types.ts';

export interface MutationResult {
  /** Minimal RFC 6902 ops against the raw pod; empty when nothing needs to change. */
  patch: JsonPatchOp[];
  warnings: string[];
  outcome: MutationOutcome;
}

/**
 * The pod injection contract (DESIGN.md "Pod injection") as a pure function: resolve the
 * precedence rules, then build the smallest patch. Idempotent: the patch applied and the result
 * admitted again yields an empty patch, so `reinvocationPolicy: IfNeeded` is safe.
 */
export function mutatePod(
  pod: Pod,
  serviceAccount: ServiceAccount | undefined,
  namespace: Namespace | undefined,
  config: InjectionConfig,
): MutationResult {
  const resolution = resolveInjection(pod, serviceAccount, namespace, config);
  if (!resolution.inject) {
    return { patch: [], warnings: resolution.warnings, outcome: resolution.outcome };
  }
  const built = buildPatch(pod, resolution.injection);
  return {
    patch: built.patch,
    warnings: [...resolution.warnings, ...built.warnings],
    outcome: built.patch.length > 0 ? 'Injected' : 'Unchanged',
  };
}

export function tokenVolume(expirationSeconds: number): Volume {
  return {
    name: TOKEN_VOLUME_NAME,
    projected: {
      defaultMode: TOKEN_VOLUME_DEFAULT_MODE,
      sources: [
        {
          serviceAccountToken: {
            audience: TOKEN_AUDIENCE,
            expirationSeconds,
            path: TOKEN_FILE_NAME,
          },
        },
      ],
    },
  };
}

/** The patch builder: only `add` (appends, or a missing array) and `replace` of one env entry. */
export function buildPatch(
  pod: Pod,
  injection: Injection,
): { patch: JsonPatchOp[]; warnings: string[] } {
  const patch: JsonPatchOp[] = [];
  const warnings: string[] = [];
  let volumeMounted = false;
  for (const target of injection.targets) {
    const base = `/spec/${target.field}/${target.index}`;
    patch.push(...envOps(base, target, injection, warnings));
    const mount = mountOps(base, target, warnings);
    patch.push(...mount.ops);
    volumeMounted ||= mount.mounted;
  }
  if (volumeMounted) patch.push(...volumeOps(pod, injection.expirationSeconds, warnings));
  return { patch, warnings };
}

function envOps(
  base: string,
  target: ContainerRef,
  injection: Injection,
  warnings: string[],
): JsonPatchOp[] {
  const existing = Array.isArray(target.container.env) ? target.container.env : undefined;
  const ops: JsonPatchOp[] = [];
  const missing: DesiredEnvVar[] = [];
  for (const wanted of injection.env) {
    // Kubernetes lets a name repeat and the last entry wins, so the last one is the one to judge.
    const index = existing?.findLastIndex((e) => e.name === wanted.name) ?? -1;
    if (index < 0) {
      missing.push(wanted);
      continue;
    }
    const current = existing![index]!;
    if (current.value === wanted.value && current.valueFrom === undefined) continue;
    if (injection.overrideEnv) {
      // The whole entry, not `/value`: a user's `valueFrom` must go too, or the pod is invalid.
      ops.push({ op: 'replace', path: `${base}/env/${index}`, value: { ...wanted } });
    } else {
      warnings.push(
        `container ${target.container.name}: kept its own ${wanted.name} ` +
          `(annotate the pod pod-identity.alibabacloud.com/override-env: "true" to replace it)`,
      );
    }
  }
  if (missing.length === 0) return ops;
  if (!existing) {
    ops.push({ op: 'add', path: `${base}/env`, value: missing.map((e) => ({ ...e })) });
  } else {
    for (const e of missing) ops.push({ op: 'add', path: `${base}/env/-`, value: { ...e } });
  }
  return ops;
}

function normalisePath(path: string): string {
  return path.length > 1 ? path.replace(/\/+$/, '') : path;
}

/**
 * A mount at our path under another name is the user's own token wiring (or another tool's):
 * the API server rejects two mounts at one path, so leave it and say so.
 */
function mountOps(
  base: string,
  target: ContainerRef,
  warnings: string[],
): { ops: JsonPatchOp[]; mounted: boolean } {
  const mounts = Array.isArray(target.container.volumeMounts)
    ? target.container.volumeMounts
    : undefined;
  const atPath = mounts?.find((m) => normalisePath(m.mountPath) === TOKEN_MOUNT_PATH);
  if (atPath?.name === TOKEN_VOLUME_NAME) return { ops: [], mounted: true };
  const ours = mounts?.find((m) => m.name === TOKEN_VOLUME_NAME);
  if (ours && !atPath) {
    // The user mounts our volume elsewhere on purpose; a second mount of it would be a surprise.
    warnings.push(
      `container ${target.container.name}: mounts ${TOKEN_VOLUME_NAME} at ${ours.mountPath}, ` +
        `not ${TOKEN_MOUNT_PATH}; kept it (${TOKEN_FILE_PATH} will not exist)`,
    );
    return { ops: [], mounted: true };
  }
  if (atPath) {
    warnings.push(
      `container ${target.container.name}: volume ${atPath.name} is already mounted at ` +
        `${TOKEN_MOUNT_PATH}; ${TOKEN_VOLUME_NAME} not mounted`,
    );
    return { ops: [], mounted: false };
  }
  const value = { name: TOKEN_VOLUME_NAME, mountPath: TOKEN_MOUNT_PATH, readOnly: true };
  const op: JsonPatchOp = mounts
    ? { op: 'add', path: `${base}/volumeMounts/-`, value }
    : { op: 'add', path: `${base}/volumeMounts`, value: [value] };
  return { ops: [op], mounted: true };
}

function volumeOps(pod: Pod, expirationSeconds: number, warnings: string[]): JsonPatchOp[] {
  const wanted = tokenVolume(expirationSeconds);
  const volumes = Array.isArray(pod.spec?.volumes) ? pod.spec.volumes : undefined;
  const existing = volumes?.find((v) => v.name === TOKEN_VOLUME_NAME);
  if (existing) {
    if (!isDeepEqual(existing, wanted)) {
      warnings.push(
        `pod already has a volume named ${TOKEN_VOLUME_NAME} that is not the RRSA token ` +
          `projection (audience ${TOKEN_AUDIENCE}, ${expirationSeconds}s); kept it unchanged`,
      );
    }
    return [];
  }
  if (!volumes) return [{ op: 'add', path: '/spec/volumes', value: [wanted] }];
  return [{ op: 'add', path: '/spec/volumes/-', value: wanted }];
}

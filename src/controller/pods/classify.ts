import type { PodView } from '../../kube/pod-view.ts';
import type { InjectionConfig } from '../../webhook/config.ts';
import {
  ENV_OIDC_PROVIDER_ARN,
  ENV_OIDC_TOKEN_FILE,
  ENV_ROLE_ARN,
} from '../../webhook/constants.ts';
import { buildPatch } from '../../webhook/mutate.ts';
import { resolveInjection, type Injection } from '../../webhook/resolve.ts';
import type { Container, Namespace, ServiceAccount } from '../../webhook/types.ts';

/** The env vars that say which identity a pod has (the STS endpoint ones do not). */
export const IDENTITY_ENV = [ENV_ROLE_ARN, ENV_OIDC_PROVIDER_ARN, ENV_OIDC_TOKEN_FILE] as const;

/** The identity the webhook would give a pod created now. */
export interface ExpectedIdentity {
  roleArn: string;
  oidcProviderArn: string;
}

export type PodVerdict =
  | { state: 'current'; expected: ExpectedIdentity | undefined }
  | { state: 'stale'; why: string; expected: ExpectedIdentity | undefined }
  /** Finished or being deleted: runs nothing, counts nowhere. */
  | { state: 'ignored' };

/** The value a container's env var ends up with (the last entry of a name wins). */
function envValue(container: Container, name: string): string | undefined {
  const entry = container.env?.findLast((e) => e.name === name);
  if (!entry) return undefined;
  return entry.valueFrom !== undefined ? '(valueFrom)' : (entry.value ?? '');
}

function carriedRoleArn(pod: PodView): string | undefined {
  const all = [...pod.spec.initContainers, ...pod.spec.containers];
  for (const container of all) {
    const value = envValue(container, ENV_ROLE_ARN);
    if (value !== undefined) return value;
  }
  return undefined;
}

function expectedOf(injection: Injection): ExpectedIdentity {
  const value = (name: string): string => injection.env.find((e) => e.name === name)?.value ?? '';
  return { roleArn: value(ENV_ROLE_ARN), oidcProviderArn: value(ENV_OIDC_PROVIDER_ARN) };
}

/** Why one selected container differs from the injection, or undefined when it matches. */
function containerDifference(container: Container, injection: Injection): string | undefined {
  const missing = IDENTITY_ENV.filter((name) => envValue(container, name) === undefined);
  if (missing.length === IDENTITY_ENV.length) return 'not injected';
  const expected = expectedOf(injection);
  const role = envValue(container, ENV_ROLE_ARN);
  if (role !== expected.roleArn) return `role ${role ?? '(none)'}, now ${expected.roleArn}`;
  const provider = envValue(container, ENV_OIDC_PROVIDER_ARN);
  if (provider !== expected.oidcProviderArn)
    return `OIDC provider ${provider ?? '(none)'}, now ${expected.oidcProviderArn}`;
  if (missing.length > 0) return `missing ${missing.join(', ')}`;
  return undefined;
}

/** Finished or being deleted: runs nothing, so it is judged by nothing (no namespace needed). */
export function isIgnored(pod: PodView): boolean {
  return pod.terminating || pod.phase === 'Succeeded' || pod.phase === 'Failed';
}

/**
 * Current: the pod carries the identity the webhook would inject if it were created now, judged
 * by the webhook's own decision (resolveInjection: selection, ServiceAccount annotation, only- and
 * skip-containers) and its own patch builder (buildPatch: a non-empty patch means something is
 * missing). Only the identity env vars count: a pod admitted by a webhook without STS env
 * injection (ACK before 0.4) still assumes the right role. Stale: it lacks that identity, carries
 * another role or provider ARN, or carries a role the webhook would no longer inject.
 */
export function classifyPod(
  pod: PodView,
  serviceAccount: ServiceAccount | undefined,
  namespace: Namespace | undefined,
  config: InjectionConfig,
): PodVerdict {
  if (isIgnored(pod)) return { state: 'ignored' };
  const resolution = resolveInjection(pod, serviceAccount, namespace, config);
  if (!resolution.inject) {
    const carried = carriedRoleArn(pod);
    if (carried === undefined) return { state: 'current', expected: undefined };
    return {
      state: 'stale',
      why: `carries role ${carried}, which the webhook no longer injects (${resolution.outcome})`,
      expected: undefined,
    };
  }
  const identityOnly: Injection = {
    ...resolution.injection,
    env: resolution.injection.env.filter((e) =>
      (IDENTITY_ENV as readonly string[]).includes(e.name),
    ),
  };
  const expected = expectedOf(identityOnly);
  for (const target of identityOnly.targets) {
    const why = containerDifference(target.container, identityOnly);
    if (why) return { state: 'stale', why: `${target.container.name}: ${why}`, expected };
  }
  if (buildPatch(pod, identityOnly).patch.length > 0)
    return { state: 'stale', why: 'token volume or mount missing', expected };
  return { state: 'current', expected };
}

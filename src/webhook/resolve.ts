import {
  ENV_OIDC_PROVIDER_ARN,
  ENV_OIDC_TOKEN_FILE,
  ENV_ROLE_ARN,
  ENV_STS_ENDPOINT,
  ENV_STS_REGION,
  ENV_VPC_ENDPOINT_ENABLED,
  INJECTION_LABEL,
  OIDC_PROVIDER_ARN_ANNOTATION,
  ONLY_CONTAINERS_ANNOTATION,
  OVERRIDE_ENV_KEY,
  ROLE_ARN_ANNOTATION,
  ROLE_NAME_ANNOTATION,
  SKIP_CONTAINERS_ANNOTATION,
  TOKEN_EXPIRATION_ANNOTATION,
  TOKEN_FILE_PATH,
} from './constants.ts';
import type { InjectionConfig } from './config.ts';
import { isValidRoleName, oidcProviderArn, roleArn, stsEndpoint } from './config.ts';
import { parseContainerList, selectContainers, type ContainerRef } from './containers.ts';
import { resolveExpiration } from './expiration.ts';
import type { Namespace, Pod, ServiceAccount } from './types.ts';

/** ACK 0.3 ServiceAccount annotation: add the STS endpoint even with STS env injection off. */
export const INJECT_STS_ENDPOINT_ANNOTATION = 'pod-identity.alibabacloud.com/inject-sts-endpoint';

/** Why a pod was or was not mutated; the admission metrics' `outcome` label. */
export type MutationOutcome =
  | 'Injected'
  | 'Unchanged'
  | 'NotSelected'
  | 'OptedOut'
  | 'ExcludedNamespace'
  | 'ServiceAccountMissing'
  | 'NoRoleAnnotation'
  | 'InvalidRoleName'
  | 'NoContainersSelected';

export interface DesiredEnvVar {
  name: string;
  value: string;
}

export interface Injection {
  env: DesiredEnvVar[];
  /** Replace a user's env var of the same name instead of keeping it. */
  overrideEnv: boolean;
  expirationSeconds: number;
  targets: ContainerRef[];
}

export type Resolution =
  | { inject: false; outcome: MutationOutcome; warnings: string[] }
  | { inject: true; injection: Injection; warnings: string[] };

type Labels = Record<string, string>;

function labelsOf(object: { metadata?: { labels?: Labels } } | undefined): Labels {
  return object?.metadata?.labels ?? {};
}

function annotationsOf(object: { metadata?: { annotations?: Labels } } | undefined): Labels {
  return object?.metadata?.annotations ?? {};
}

/** The namespace the pod is created in (the admission layer fills it from the request). */
export function namespaceName(pod: Pod, namespace: Namespace | undefined): string {
  return namespace?.metadata?.name ?? pod.metadata?.namespace ?? '';
}

/** The ServiceAccount a pod runs as; the ServiceAccount admission plugin defaults it too. */
export function serviceAccountName(pod: Pod): string {
  return pod.spec?.serviceAccountName || 'default';
}

/**
 * Selection, in order: an excluded namespace never; the pod label `injection: off` opts out
 * even in a labelled namespace; then the pod label `on` (ACK 0.2+) or the namespace label `on`
 * opts in. Only this decision needs no ServiceAccount, so the server asks it first and reads
 * ServiceAccounts only for pods that opted in.
 */
export function selectionOutcome(
  pod: Pod,
  namespace: Namespace | undefined,
  config: InjectionConfig,
): MutationOutcome | undefined {
  if (config.excludedNamespaces.includes(namespaceName(pod, namespace))) {
    return 'ExcludedNamespace';
  }
  const podLabel = labelsOf(pod)[INJECTION_LABEL];
  if (podLabel === 'off') return 'OptedOut';
  if (podLabel === 'on' || labelsOf(namespace)[INJECTION_LABEL] === 'on') return undefined;
  return 'NotSelected';
}

/**
 * override-env: the pod annotation, when it says `true` or `false`, beats the namespace label,
 * so one pod can opt back out of a namespace-wide override.
 */
function isOverrideEnv(pod: Pod, namespace: Namespace | undefined): boolean {
  const podValue = annotationsOf(pod)[OVERRIDE_ENV_KEY];
  if (podValue === 'true' || podValue === 'false') return podValue === 'true';
  return labelsOf(namespace)[OVERRIDE_ENV_KEY] === 'true';
}

/**
 * The role and provider ARNs: the cluster account's, unless the ServiceAccount carries both ARNs
 * of a role in another account (the operator writes them for an AccountMapping) and the role ARN
 * names the same role as the role-name annotation. Editing them grants nothing: the role's trust
 * policy still decides who may assume it.
 */
function identityArns(
  config: InjectionConfig,
  roleName: string,
  serviceAccount: ServiceAccount,
): { role: string; provider: string } {
  const annotations = annotationsOf(serviceAccount);
  const role = annotations[ROLE_ARN_ANNOTATION]?.trim();
  const provider = annotations[OIDC_PROVIDER_ARN_ANNOTATION]?.trim();
  const roleOk = role !== undefined && /^acs:ram::\d+:role\/[A-Za-z0-9.-]{1,64}$/.test(role);
  const providerOk = provider !== undefined && /^acs:ram::\d+:oidc-provider\/\S+$/.test(provider);
  if (roleOk && providerOk && role.endsWith(`:role/${roleName}`)) return { role, provider };
  return { role: roleArn(config, roleName), provider: oidcProviderArn(config) };
}

/** Order matters only for readability of the pod spec; it matches ACK's. */
function desiredEnv(
  config: InjectionConfig,
  roleName: string,
  serviceAccount: ServiceAccount,
): DesiredEnvVar[] {
  const arns = identityArns(config, roleName, serviceAccount);
  const env: DesiredEnvVar[] = [
    { name: ENV_ROLE_ARN, value: arns.role },
    { name: ENV_OIDC_PROVIDER_ARN, value: arns.provider },
    { name: ENV_OIDC_TOKEN_FILE, value: TOKEN_FILE_PATH },
  ];
  if (config.stsEnv.enabled) {
    env.push({ name: ENV_STS_ENDPOINT, value: stsEndpoint(config) });
    if (config.stsEnv.region) env.push({ name: ENV_STS_REGION, value: config.stsEnv.region });
    env.push({ name: ENV_VPC_ENDPOINT_ENABLED, value: String(config.stsEnv.vpcEndpoint) });
  } else if (annotationsOf(serviceAccount)[INJECT_STS_ENDPOINT_ANNOTATION] === 'on') {
    env.push({ name: ENV_STS_ENDPOINT, value: stsEndpoint(config) });
  }
  return env;
}

/**
 * Every precedence rule of the injection, in one place. Pure: the inputs are the raw pod, the
 * ServiceAccount (undefined when it could not be found) and the namespace.
 */
export function resolveInjection(
  pod: Pod,
  serviceAccount: ServiceAccount | undefined,
  namespace: Namespace | undefined,
  config: InjectionConfig,
): Resolution {
  const notSelected = selectionOutcome(pod, namespace, config);
  if (notSelected) return { inject: false, outcome: notSelected, warnings: [] };

  const ns = namespaceName(pod, namespace);
  const saName = serviceAccountName(pod);
  if (!serviceAccount) {
    const warning = `ServiceAccount ${ns}/${saName} not found: pod admitted without RRSA credentials`;
    return { inject: false, outcome: 'ServiceAccountMissing', warnings: [warning] };
  }

  const roleName = annotationsOf(serviceAccount)[ROLE_NAME_ANNOTATION]?.trim();
  if (!roleName) return { inject: false, outcome: 'NoRoleAnnotation', warnings: [] };
  if (!isValidRoleName(roleName)) {
    const warning =
      `ServiceAccount ${ns}/${saName} annotation ${ROLE_NAME_ANNOTATION}=${JSON.stringify(roleName)} ` +
      'is not a valid RAM role name (1-64 of A-Z a-z 0-9 . -): no RRSA credentials injected';
    return { inject: false, outcome: 'InvalidRoleName', warnings: [warning] };
  }

  const podAnnotations = annotationsOf(pod);
  const selection = selectContainers(
    pod,
    parseContainerList(podAnnotations[ONLY_CONTAINERS_ANNOTATION]),
    parseContainerList(podAnnotations[SKIP_CONTAINERS_ANNOTATION]),
  );
  if (selection.targets.length === 0) {
    return { inject: false, outcome: 'NoContainersSelected', warnings: selection.warnings };
  }

  const expiration = resolveExpiration([
    { source: 'pod', value: podAnnotations[TOKEN_EXPIRATION_ANNOTATION] },
    { source: 'ServiceAccount', value: annotationsOf(serviceAccount)[TOKEN_EXPIRATION_ANNOTATION] },
  ]);
  const warnings = [...selection.warnings];
  if (expiration.warning) warnings.push(expiration.warning);

  return {
    inject: true,
    warnings,
    injection: {
      env: desiredEnv(config, roleName, serviceAccount),
      overrideEnv: isOverrideEnv(pod, namespace),
      expirationSeconds: expiration.seconds,
      targets: selection.targets,
    },
  };
}

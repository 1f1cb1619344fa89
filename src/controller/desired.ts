import type { PodIdentityBinding, PolicySpec } from '../api/types.ts';
import { roleArn } from '../identity/arn.ts';
import {
  checkAdoption,
  checkPolicies,
  checkRoleName,
  type GuardrailViolation,
  type Guardrails,
} from '../identity/guardrails.ts';
import { defaultRoleName } from '../identity/naming.ts';
import type { TrustTarget } from '../identity/trust-policy.ts';
import type { ClusterIdentity } from './types.ts';

export const DEFAULT_MAX_SESSION_DURATION = 3600;

/** What the cloud and the ServiceAccount should look like for one binding. */
export interface DesiredState {
  roleName: string;
  roleArn: string;
  target: TrustTarget;
  /** Undefined: keep whatever an adopted role has. */
  description: string | undefined;
  maxSessionDuration: number | undefined;
  policies: PolicySpec[];
  adopt: boolean;
  tokenExpirationSeconds: number | undefined;
}

/**
 * The role name never moves once chosen: an explicit name, else the one already recorded in
 * status, else the derived default. A changed prefix or hashing rule therefore never orphans a
 * role that exists.
 */
export function chooseRoleName(binding: PodIdentityBinding, cluster: ClusterIdentity): string {
  return (
    binding.spec.role?.name ??
    binding.status?.roleName ??
    defaultRoleName(
      cluster.roleNamePrefix,
      cluster.clusterId,
      binding.metadata.namespace,
      binding.spec.serviceAccountName,
    )
  );
}

export function desiredState(binding: PodIdentityBinding, cluster: ClusterIdentity): DesiredState {
  const { spec, metadata } = binding;
  const roleName = chooseRoleName(binding, cluster);
  const adopt = spec.role?.adopt === true;
  return {
    roleName,
    roleArn: roleArn(cluster.accountId, roleName),
    target: {
      providerArn: cluster.oidcProviderArn,
      issuer: cluster.issuerUrl,
      namespace: metadata.namespace,
      serviceAccount: spec.serviceAccountName,
    },
    description:
      spec.role?.description ??
      (adopt
        ? undefined
        : `Managed by rrsa-operator: PodIdentityBinding ${metadata.namespace}/${metadata.name} in cluster ${cluster.clusterId}`),
    maxSessionDuration:
      spec.role?.maxSessionDuration ?? (adopt ? undefined : DEFAULT_MAX_SESSION_DURATION),
    policies: spec.role?.policies ?? [],
    adopt,
    tokenExpirationSeconds: spec.tokenExpirationSeconds,
  };
}

/** Guardrails are checked before any cloud call: a refused binding changes nothing in RAM. */
export function guardrailViolations(
  binding: PodIdentityBinding,
  guardrails: Guardrails,
  cluster: ClusterIdentity,
): GuardrailViolation[] {
  const namespace = binding.metadata.namespace;
  const context = {
    namespace,
    prefix: cluster.roleNamePrefix,
    derivedName: defaultRoleName(
      cluster.roleNamePrefix,
      cluster.clusterId,
      namespace,
      binding.spec.serviceAccountName,
    ),
  };
  return [
    ...checkRoleName(binding.spec.role?.name, guardrails, context),
    ...checkAdoption(binding.spec.role?.adopt, guardrails),
    ...checkPolicies(binding.spec.role?.policies ?? [], guardrails),
  ];
}

import { ANNOTATION_ROLE_NAME, ANNOTATION_TOKEN_EXPIRATION } from '../api/types.ts';

/** Marks a ServiceAccount as wired by a binding, so the expiration annotation is ours to remove. */
export const ANNOTATION_MANAGED_BY_BINDING = 'rrsa.dev/binding';
/**
 * A role in another account (AccountMapping): its ARN and that account's provider ARN, which the
 * webhook injects instead of deriving them from the cluster's own account.
 */
export const ANNOTATION_ROLE_ARN = 'rrsa.dev/role-arn';
export const ANNOTATION_OIDC_PROVIDER_ARN = 'rrsa.dev/oidc-provider-arn';

export interface ServiceAccountWiring {
  roleName: string;
  bindingName: string;
  tokenExpirationSeconds: number | undefined;
  arns?: { roleArn: string; oidcProviderArn: string } | undefined;
}

/**
 * The annotation changes that make a ServiceAccount name the binding's role (null removes).
 * Empty when nothing needs to change, so a resync patches nothing.
 */
export function annotationChanges(
  current: Record<string, string>,
  wiring: ServiceAccountWiring,
): Record<string, string | null> {
  const desired: Record<string, string | null> = {
    [ANNOTATION_ROLE_NAME]: wiring.roleName,
    [ANNOTATION_MANAGED_BY_BINDING]: wiring.bindingName,
    [ANNOTATION_TOKEN_EXPIRATION]:
      wiring.tokenExpirationSeconds === undefined ? null : String(wiring.tokenExpirationSeconds),
    [ANNOTATION_ROLE_ARN]: wiring.arns?.roleArn ?? null,
    [ANNOTATION_OIDC_PROVIDER_ARN]: wiring.arns?.oidcProviderArn ?? null,
  };
  // A hand-set expiration on a ServiceAccount we did not wire yet is the user's, not ours.
  const wiredByUs = current[ANNOTATION_MANAGED_BY_BINDING] === wiring.bindingName;
  if (wiring.tokenExpirationSeconds === undefined && !wiredByUs)
    delete desired[ANNOTATION_TOKEN_EXPIRATION];
  const changes: Record<string, string | null> = {};
  for (const [key, value] of Object.entries(desired)) {
    const present = current[key];
    if (value === null ? present !== undefined : present !== value) changes[key] = value;
  }
  return changes;
}

/**
 * On deletion: unwire only what this binding wired. The ServiceAccount must name this binding in
 * `rrsa.dev/binding`: the loser of a ServiceAccount conflict derives the same role name as the
 * winner, and must not strip the winner's wiring. A role-name annotation without our marker was
 * set by hand (or by another tool) and is left alone.
 */
export function unwireChanges(
  current: Record<string, string>,
  roleName: string | undefined,
  bindingName: string,
): Record<string, string | null> {
  if (roleName === undefined || current[ANNOTATION_ROLE_NAME] !== roleName) return {};
  if (current[ANNOTATION_MANAGED_BY_BINDING] !== bindingName) return {};
  const changes: Record<string, string | null> = {
    [ANNOTATION_ROLE_NAME]: null,
    [ANNOTATION_MANAGED_BY_BINDING]: null,
  };
  for (const key of [
    ANNOTATION_TOKEN_EXPIRATION,
    ANNOTATION_ROLE_ARN,
    ANNOTATION_OIDC_PROVIDER_ARN,
  ])
    if (current[key] !== undefined) changes[key] = null;
  return changes;
}

import { ANNOTATION_ROLE_NAME, ANNOTATION_TOKEN_EXPIRATION } from '../api/types.ts';

/** Marks a ServiceAccount as wired by a binding, so the expiration annotation is ours to remove. */
export const ANNOTATION_MANAGED_BY_BINDING = 'rrsa.dev/binding';

export interface ServiceAccountWiring {
  roleName: string;
  bindingName: string;
  tokenExpirationSeconds: number | undefined;
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
  if (current[ANNOTATION_TOKEN_EXPIRATION] !== undefined)
    changes[ANNOTATION_TOKEN_EXPIRATION] = null;
  return changes;
}

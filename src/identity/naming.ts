import { createHash } from 'node:crypto';

export const ROLE_NAME_MAX = 64;
const HASH_LENGTH = 8;

/**
 * The default RAM role name for a binding: `<prefix><namespace>.<serviceAccount>-<hash>`.
 * RAM names are account-global, so the hash covers the cluster id as well as namespace and
 * ServiceAccount: two clusters (or a truncated long name) never collide. The dot is unambiguous
 * because namespaces cannot contain one. Lowercase only, since RAM compares names
 * case-insensitively.
 */
export function defaultRoleName(
  prefix: string,
  clusterId: string,
  namespace: string,
  serviceAccount: string,
): string {
  const hash = createHash('sha256')
    .update(`${clusterId}/${namespace}/${serviceAccount}`)
    .digest('hex')
    .slice(0, HASH_LENGTH);
  const readable = `${prefix}${namespace}.${serviceAccount}`
    .toLowerCase()
    .replace(/[^a-z0-9.-]/g, '-')
    .slice(0, ROLE_NAME_MAX - HASH_LENGTH - 1)
    .replace(/[.-]+$/, '');
  return `${readable}-${hash}`;
}

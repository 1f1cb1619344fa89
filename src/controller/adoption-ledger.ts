import { createHash } from 'node:crypto';
import type { PolicyRef, PolicyType } from '../cloud/ports.ts';
import type { BindingIdentity } from './ownership.ts';
import { policyKey } from './policies.ts';

/**
 * What a binding did to a role it adopted, recorded on the role itself as one RAM tag per
 * binding: its presence proves this binding adopted the role, its value lists the policies this
 * binding attached. It lives in RAM, not in status, because (a) a tenant who can write status
 * must not be able to make deletion detach someone else's policies, and (b) it is written
 * *before* each attach (write-ahead), so a crash or error between two RAM calls can never leave a
 * grant that no record knows about. The tag names the binding only through a hash: other
 * tenants who can read the role's tags learn nothing about who adopted it.
 */
export const LEDGER_TAG_PREFIX = 'rrsa.dev/adopted-by.';

/** RAM tag values hold at most 256 characters (reference: TagResources limits). */
export const LEDGER_VALUE_MAX = 256;

export function ledgerTagKey(id: BindingIdentity): string {
  const digest = createHash('sha256')
    .update(`${id.clusterId}/${id.namespace}/${id.name}`)
    .digest('hex');
  return `${LEDGER_TAG_PREFIX}${digest.slice(0, 16)}`;
}

/** The policies this binding attached to the role, or undefined when it never adopted it. */
export function readLedger(
  tags: Record<string, string>,
  id: BindingIdentity,
): PolicyRef[] | undefined {
  const value = tags[ledgerTagKey(id)];
  if (value === undefined) return undefined;
  return value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.includes(':'))
    .map((entry) => {
      const colon = entry.indexOf(':');
      return { type: entry.slice(0, colon) as PolicyType, name: entry.slice(colon + 1) };
    });
}

/**
 * The tag value for a set of policies: sorted and de-duplicated, so the same set always gives
 * the same value and an unchanged ledger is never rewritten. An empty ledger (the adoption marker
 * alone) is `-`, since RAM's handling of empty tag values is not documented. [unconfirmed] RAM
 * accepting `:` and `,` in tag values.
 */
export const EMPTY_LEDGER = '-';

export function formatLedger(policies: readonly PolicyRef[]): string {
  return [...new Set(policies.map(policyKey))].sort().join(',') || EMPTY_LEDGER;
}

export function ledgerFits(policies: readonly PolicyRef[]): boolean {
  return formatLedger(policies).length <= LEDGER_VALUE_MAX;
}

/** Union and difference by policy key (the ledger is a set). */
export function withPolicies(base: readonly PolicyRef[], add: readonly PolicyRef[]): PolicyRef[] {
  const seen = new Set(base.map(policyKey));
  return [...base, ...add.filter((p) => !seen.has(policyKey(p)))];
}

export function withoutPolicies(
  base: readonly PolicyRef[],
  remove: readonly PolicyRef[],
): PolicyRef[] {
  const gone = new Set(remove.map(policyKey));
  return base.filter((p) => !gone.has(policyKey(p)));
}

import type {
  AccountMapping,
  LabelSelector,
  LabelSelectorRequirement,
} from '../api/account-mapping.ts';

/**
 * Which account a namespace's roles live in (pure). A namespace named by a mapping or matched by
 * its selector maps to that mapping's account; none: the cluster's own account. Two mappings
 * naming different accounts for one namespace is a configuration error the admin must fix, so it
 * is reported rather than broken by a hidden order. Two mappings agreeing on the account and on
 * how to reach it are one answer.
 */

export interface NamespaceInfo {
  name: string;
  /** undefined when the labels could not be read: selectors then cannot decide. */
  labels: Record<string, string> | undefined;
}

export type AccountResolution =
  | { kind: 'home' }
  | { kind: 'mapped'; mapping: AccountMapping }
  | { kind: 'conflict'; mappings: string[] }
  | { kind: 'unknown'; mappings: string[] };

function requirementHolds(r: LabelSelectorRequirement, labels: Record<string, string>): boolean {
  const value = labels[r.key];
  switch (r.operator) {
    case 'In':
      return value !== undefined && (r.values ?? []).includes(value);
    case 'NotIn':
      return value === undefined || !(r.values ?? []).includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    default:
      return false;
  }
}

/** metav1.LabelSelector semantics; an empty selector matches every namespace (as in Kubernetes). */
export function selectorMatches(selector: LabelSelector, labels: Record<string, string>): boolean {
  const byLabel = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  return byLabel && (selector.matchExpressions ?? []).every((r) => requirementHolds(r, labels));
}

type Match = 'yes' | 'no' | 'unknown';

function mappingMatches(mapping: AccountMapping, ns: NamespaceInfo): Match {
  if ((mapping.spec.namespaces ?? []).includes(ns.name)) return 'yes';
  const selector = mapping.spec.namespaceSelector;
  if (!selector) return 'no';
  if (!ns.labels) return 'unknown';
  return selectorMatches(selector, ns.labels) ? 'yes' : 'no';
}

/** How the operator reaches an account: mappings that agree on it are interchangeable. */
export function accessKey(mapping: AccountMapping): string {
  const { accountId, managementRoleName, externalId, oidcProviderName } = mapping.spec;
  return JSON.stringify([accountId, managementRoleName, externalId ?? '', oidcProviderName ?? '']);
}

export function resolveAccount(
  ns: NamespaceInfo,
  mappings: readonly AccountMapping[],
): AccountResolution {
  const sorted = [...mappings].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  const matching = sorted.filter((m) => mappingMatches(m, ns) === 'yes');
  const unknown = sorted.filter((m) => mappingMatches(m, ns) === 'unknown');
  if (new Set(matching.map(accessKey)).size > 1)
    return { kind: 'conflict', mappings: matching.map((m) => m.metadata.name) };
  // Unreadable labels must not silently fall back to the home account.
  if (unknown.length > 0 && matching.length === 0)
    return { kind: 'unknown', mappings: unknown.map((m) => m.metadata.name) };
  const first = matching[0];
  return first ? { kind: 'mapped', mapping: first } : { kind: 'home' };
}

/** Whether any mapping needs namespace labels (else no namespace read is needed at all). */
export function needsLabels(mappings: readonly AccountMapping[]): boolean {
  return mappings.some((m) => m.spec.namespaceSelector !== undefined);
}

/** The account an `acs:ram::<uid>:...` ARN names. */
export function accountOfArn(arn: string | undefined): string | undefined {
  return /^acs:ram::(\d+):/.exec(arn ?? '')?.[1];
}

import { createHash } from 'node:crypto';
import { sameJson } from './trust-policy.ts';

/**
 * Inline permission policies (spec.role.inlinePolicies): RAM has none, so each entry becomes one
 * Custom policy the operator owns (docs/adr/0011-inline-policies.md). Pure: naming, RAM's
 * document grammar and length, the semantic compare and the version-pruning decision.
 */

export const POLICY_NAME_MAX = 128;
/** RAM PolicyDocument: 1..6144 characters (reference §3, CreatePolicyRequest). */
export const POLICY_DOCUMENT_MAX = 6144;
/** RAM keeps at most 5 versions of a Custom policy (LimitExceeded.Policy.Version). */
export const POLICY_VERSION_LIMIT = 5;
const HASH_LENGTH = 8;

/**
 * `<prefix><namespace>-<binding>-<entry>-<hash>`, at most 128 of `[a-z0-9-]`. Policy names are
 * account-global and compared case-insensitively, so the hash covers the cluster id with the
 * namespace, binding and entry (two clusters, or two truncated long names, never collide).
 * Lowercase, and `.` (allowed in namespaces, binding names and the role prefix, not in policy
 * names) becomes `-`; the readable part is only a hint, the hash is what makes it unique.
 */
export function inlinePolicyName(
  prefix: string,
  clusterId: string,
  namespace: string,
  binding: string,
  entry: string,
): string {
  const hash = createHash('sha256')
    .update(`${clusterId}/${namespace}/${binding}/${entry.toLowerCase()}`)
    .digest('hex')
    .slice(0, HASH_LENGTH);
  const readable = `${prefix}${namespace}-${binding}-${entry}`
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .slice(0, POLICY_NAME_MAX - HASH_LENGTH - 1)
    .replace(/-+$/, '');
  return `${readable}-${hash}`;
}

/** The exact text sent to RAM: compact JSON (whitespace would count against the limit). */
export function serializePolicyDocument(document: unknown): string {
  return JSON.stringify(document);
}

/**
 * The length RAM is assumed to check. [unconfirmed] whether RAM counts UTF-16 units, code points
 * or bytes: UTF-8 bytes of the text we send are at least as many as any of those, so a document
 * accepted here is never refused by RAM for its length (a non-ASCII document may be refused here
 * a little early).
 */
export function policyDocumentLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

const STATEMENT_KEYS = new Set([
  'Effect',
  'Action',
  'NotAction',
  'Resource',
  'NotResource',
  'Condition',
]);

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isStringOrList(value: unknown): boolean {
  if (typeof value === 'string') return value.length > 0;
  return (
    Array.isArray(value) &&
    value.length > 0 &&
    value.every((v) => typeof v === 'string' && v.length > 0)
  );
}

function isConditionValue(value: unknown): boolean {
  const scalar = (v: unknown): boolean =>
    typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
  return scalar(value) || (Array.isArray(value) && value.length > 0 && value.every(scalar));
}

function conditionProblems(condition: unknown, at: string): string[] {
  if (condition === undefined) return [];
  if (!isObject(condition))
    return [`${at}.Condition must map operators (StringEquals, IpAddress, ...) to keys`];
  const problems: string[] = [];
  for (const [operator, keys] of Object.entries(condition)) {
    if (!isObject(keys) || Object.keys(keys).length === 0) {
      problems.push(`${at}.Condition.${operator} must map condition keys to values`);
      continue;
    }
    for (const [key, value] of Object.entries(keys))
      if (!isConditionValue(value))
        problems.push(
          `${at}.Condition.${operator}.${key} must be a string, number, boolean or a list of them`,
        );
  }
  return problems;
}

/** One of two mutually exclusive elements (Action/NotAction, Resource/NotResource). */
function exactlyOne(s: Json, at: string, a: string, b: string): string[] {
  const has = [a, b].filter((k) => s[k] !== undefined);
  if (has.length !== 1) return [`${at} needs exactly one of ${a} and ${b}`];
  const key = has[0]!;
  return isStringOrList(s[key]) ? [] : [`${at}.${key} must be a string or a list of strings`];
}

function statementProblems(raw: unknown, at: string): string[] {
  if (!isObject(raw)) return [`${at} must be an object`];
  const problems: string[] = [];
  for (const key of Object.keys(raw))
    if (!STATEMENT_KEYS.has(key))
      problems.push(
        `${at}.${key} is not a RAM policy element (use ${[...STATEMENT_KEYS].join(', ')})`,
      );
  if (raw.Effect !== 'Allow' && raw.Effect !== 'Deny')
    problems.push(`${at}.Effect must be Allow or Deny`);
  problems.push(...exactlyOne(raw, at, 'Action', 'NotAction'));
  problems.push(...exactlyOne(raw, at, 'Resource', 'NotResource'));
  problems.push(...conditionProblems(raw.Condition, at));
  return problems;
}

/**
 * RAM's permission-policy grammar (Version "1", a non-empty Statement list of Effect, Action or
 * NotAction, Resource or NotResource, optional Condition) and its length limit. Each problem is
 * relative to the document (`Statement[1].Effect must be ...`); the caller prefixes the field.
 */
export function policyDocumentProblems(document: unknown): string[] {
  if (!isObject(document)) return ['must be an object with Version and Statement'];
  const problems: string[] = [];
  for (const key of Object.keys(document))
    if (key !== 'Version' && key !== 'Statement')
      problems.push(`${key} is not a RAM policy element (use Version and Statement)`);
  if (document.Version !== '1') problems.push('Version must be "1" (a string)');
  const statements = document.Statement;
  if (!Array.isArray(statements) || statements.length === 0)
    problems.push('Statement must be a non-empty list');
  else problems.push(...statements.flatMap((s, i) => statementProblems(s, `Statement[${i}]`)));
  if (problems.length > 0) return problems;
  const length = policyDocumentLength(serializePolicyDocument(document));
  if (length > POLICY_DOCUMENT_MAX)
    problems.push(
      `is ${length} characters as compact JSON, more than RAM's ${POLICY_DOCUMENT_MAX}: split it into several inline policies`,
    );
  return problems;
}

/**
 * Whether the text RAM holds says the same as the desired document: key order, statement order,
 * value order and a string versus a one-element list carry no meaning. Text that is not JSON
 * (edited by hand) never matches, so it is repaired.
 */
export function samePolicyDocument(observed: string, desired: unknown): boolean {
  let parsed: unknown;
  try {
    parsed = JSON.parse(observed);
  } catch {
    return false;
  }
  return sameJson(parsed, desired);
}

export interface PolicyVersionView {
  versionId: string;
  isDefault: boolean;
  document: string;
}

export type VersionPlan =
  | { kind: 'unchanged' }
  /** Drift back to a version RAM still holds: one write, no new version. */
  | { kind: 'set-default'; versionId: string }
  /** Delete `prune` (oldest non-default first), then CreatePolicyVersion as default. */
  | { kind: 'create'; prune: string[] };

function versionNumber(id: string): number {
  const match = /^v(\d+)$/i.exec(id);
  return match ? Number(match[1]) : Number.MAX_SAFE_INTEGER;
}

/**
 * How to make the policy's default version say `desired`. Versions are pruned before the create,
 * oldest first, so that the policy never reaches RAM's limit of 5 (the create would fail with
 * LimitExceeded.Policy.Version); the default version is never pruned (RAM refuses that).
 */
export function planPolicyVersion(
  versions: readonly PolicyVersionView[],
  desired: unknown,
  limit = POLICY_VERSION_LIMIT,
): VersionPlan {
  const current = versions.find((v) => v.isDefault);
  if (current && samePolicyDocument(current.document, desired)) return { kind: 'unchanged' };
  const earlier = versions.find((v) => !v.isDefault && samePolicyDocument(v.document, desired));
  if (earlier) return { kind: 'set-default', versionId: earlier.versionId };
  const removable = versions
    .filter((v) => !v.isDefault)
    .sort((a, b) => versionNumber(a.versionId) - versionNumber(b.versionId));
  const excess = Math.max(0, versions.length - (limit - 1));
  return { kind: 'create', prune: removable.slice(0, excess).map((v) => v.versionId) };
}

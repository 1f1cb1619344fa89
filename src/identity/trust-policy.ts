import { sameArn, serviceAccountSubject } from './arn.ts';

/** The audience STS requires of RRSA tokens. */
export const STS_AUDIENCE = 'sts.aliyuncs.com';

export interface TrustStatement {
  Action?: string | string[];
  Effect?: string;
  Principal?: { Federated?: string | string[]; [other: string]: unknown };
  Condition?: Record<string, Record<string, string | string[]>>;
  [other: string]: unknown;
}

export interface TrustDocument {
  Version?: string;
  Statement?: TrustStatement[];
  [other: string]: unknown;
}

/** Whose statement: the binding's ServiceAccount federated through the cluster's provider. */
export interface TrustTarget {
  providerArn: string;
  issuer: string;
  namespace: string;
  serviceAccount: string;
}

/**
 * The statement `ack-ram-tool rrsa associate-role` writes (reference/peer-webhooks.md):
 * sts:AssumeRole, Federated as an array, and aud, iss and sub pinned with StringEquals. The sub
 * always names the binding's own namespace, so a tenant can never grant another namespace.
 */
export function bindingStatement(target: TrustTarget): TrustStatement {
  return {
    Action: 'sts:AssumeRole',
    Effect: 'Allow',
    Principal: { Federated: [target.providerArn] },
    Condition: {
      StringEquals: {
        'oidc:aud': STS_AUDIENCE,
        'oidc:iss': target.issuer,
        'oidc:sub': serviceAccountSubject(target.namespace, target.serviceAccount),
      },
    },
  };
}

export class MalformedTrustPolicyError extends Error {}

export function parseTrustDocument(text: string): TrustDocument {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new MalformedTrustPolicyError(`trust policy is not JSON: ${(error as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new MalformedTrustPolicyError('trust policy is not a JSON object');
  const document = parsed as TrustDocument;
  if (document.Statement !== undefined && !Array.isArray(document.Statement))
    throw new MalformedTrustPolicyError('trust policy Statement is not an array');
  return document;
}

export function serializeTrustDocument(document: TrustDocument): string {
  return JSON.stringify(document);
}

const asList = (value: string | string[] | undefined): string[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/** True for any statement that speaks for this ServiceAccount through this provider. */
export function isTargetStatement(statement: TrustStatement, target: TrustTarget): boolean {
  const federated = asList(statement.Principal?.Federated);
  if (!federated.some((arn) => sameArn(arn, target.providerArn))) return false;
  const subject = serviceAccountSubject(target.namespace, target.serviceAccount);
  return Object.values(statement.Condition ?? {}).some((clauses) =>
    asList(clauses['oidc:sub']).includes(subject),
  );
}

export interface TrustMerge {
  document: TrustDocument;
  changed: boolean;
}

/**
 * Adopted roles: keep every other statement, and make the binding's statement appear exactly
 * once in the desired shape. Unchanged when it is already there (whatever the formatting or
 * order), so a resync never rewrites the document.
 */
export function mergeBindingStatement(document: TrustDocument, target: TrustTarget): TrustMerge {
  const desired = bindingStatement(target);
  const statements = document.Statement ?? [];
  const ours = statements.filter((s) => isTargetStatement(s, target));
  if (ours.length === 1 && sameJson(ours[0], desired)) return { document, changed: false };
  const others = statements.filter((s) => !isTargetStatement(s, target));
  return {
    document: { ...document, Version: document.Version ?? '1', Statement: [...others, desired] },
    changed: true,
  };
}

/** Adopted roles on deletion: only the binding's statement goes. */
export function removeBindingStatement(document: TrustDocument, target: TrustTarget): TrustMerge {
  const statements = document.Statement ?? [];
  const others = statements.filter((s) => !isTargetStatement(s, target));
  if (others.length === statements.length) return { document, changed: false };
  return { document: { ...document, Statement: others }, changed: true };
}

/** Roles the operator owns carry exactly the binding's statement. */
export function ownedTrustDocument(target: TrustTarget): TrustDocument {
  return { Version: '1', Statement: [bindingStatement(target)] };
}

/**
 * Semantic JSON equality for policy documents: object key order is irrelevant, a single string
 * equals a one-element array, and arrays compare as sets (statement order and value order carry no meaning in RAM).
 */
export function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(normalize(a)) === JSON.stringify(normalize(b));
}

function normalize(value: unknown): unknown {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) {
    const items = value.map(normalize);
    if (
      items.every((item) => Array.isArray(item) && item.length === 1 && typeof item[0] === 'string')
    )
      return [...new Set(items.map((item) => (item as string[])[0]!))].sort();
    return items.map((item) => JSON.stringify(item)).sort();
  }
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))
        .map(([k, v]) => [k, normalize(v)]),
    );
  }
  return value;
}

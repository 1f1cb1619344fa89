import { malformedPolicy } from './errors.ts';

/**
 * Parsing RAM policy documents (permission policies and role trust policies) into a normalised
 * form the evaluator reads. Malformed input raises `MalformedPolicyDocument` with the detail as
 * the message (reference §3); the detail wordings are [unconfirmed].
 */

export type Effect = 'Allow' | 'Deny';

export interface Principal {
  /** `"*"` or `{"RAM":"*"}`-style wildcards are kept as the string "*". */
  federated: string[];
  ram: string[];
  service: string[];
}

/** Condition operator -> key -> allowed values (string or array in the JSON, array here). */
export type ConditionBlock = Record<string, Record<string, string[]>>;

export interface Statement {
  effect: Effect;
  actions: string[] | undefined;
  notActions: string[] | undefined;
  resources: string[] | undefined;
  notResources: string[] | undefined;
  principal: Principal | undefined;
  condition: ConditionBlock;
}

export interface PolicyDocument {
  version: string;
  statements: Statement[];
}

export type PolicyKind = 'permission' | 'trust';

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringList(value: unknown, field: string): string[] | undefined {
  if (value === undefined) return undefined;
  const list = Array.isArray(value) ? (value as unknown[]) : [value];
  if (list.length === 0 || !list.every((v) => typeof v === 'string')) {
    throw malformedPolicy(`${field} must be a string or an array of strings.`);
  }
  return list;
}

function scalarList(value: unknown, field: string): string[] {
  const list = Array.isArray(value) ? (value as unknown[]) : [value];
  return list.map((v) => {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return String(v);
    throw malformedPolicy(`Condition values of ${field} must be strings, numbers or booleans.`);
  });
}

function parseCondition(value: unknown): ConditionBlock {
  if (value === undefined) return {};
  if (!isObject(value)) throw malformedPolicy('Condition must be an object.');
  const block: ConditionBlock = {};
  for (const [operator, keys] of Object.entries(value)) {
    if (!isObject(keys)) throw malformedPolicy(`Condition operator ${operator} must map keys.`);
    const entries: Record<string, string[]> = {};
    for (const [key, values] of Object.entries(keys)) entries[key] = scalarList(values, key);
    block[operator] = entries;
  }
  return block;
}

function parsePrincipal(value: unknown): Principal | undefined {
  if (value === undefined) return undefined;
  if (value === '*') return { federated: ['*'], ram: ['*'], service: ['*'] };
  if (!isObject(value)) throw malformedPolicy('Principal must be an object.');
  const principal: Principal = { federated: [], ram: [], service: [] };
  for (const [type, ids] of Object.entries(value)) {
    const list = stringList(ids, `Principal.${type}`) ?? [];
    if (type === 'Federated') principal.federated = list;
    else if (type === 'RAM') principal.ram = list;
    else if (type === 'Service') principal.service = list;
    else throw malformedPolicy(`Unknown principal type: ${type}.`);
  }
  return principal;
}

function parseStatement(raw: unknown, kind: PolicyKind): Statement {
  if (!isObject(raw)) throw malformedPolicy('Each Statement must be an object.');
  const effect = raw.Effect;
  if (effect !== 'Allow' && effect !== 'Deny') {
    throw malformedPolicy('Effect must be Allow or Deny.');
  }
  const statement: Statement = {
    effect,
    actions: stringList(raw.Action, 'Action'),
    notActions: stringList(raw.NotAction, 'NotAction'),
    resources: stringList(raw.Resource, 'Resource'),
    notResources: stringList(raw.NotResource, 'NotResource'),
    principal: parsePrincipal(raw.Principal),
    condition: parseCondition(raw.Condition),
  };
  if (!statement.actions && !statement.notActions) {
    throw malformedPolicy('Statement must contain Action or NotAction.');
  }
  if (kind === 'permission' && !statement.resources && !statement.notResources) {
    throw malformedPolicy('Statement must contain Resource or NotResource.');
  }
  if (kind === 'trust' && !statement.principal) {
    throw malformedPolicy('Statement of a trust policy must contain Principal.');
  }
  return statement;
}

export function parsePolicyDocument(text: string, kind: PolicyKind): PolicyDocument {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw malformedPolicy(`The policy document is not valid JSON: ${(error as Error).message}`);
  }
  if (!isObject(parsed)) throw malformedPolicy('The policy document must be a JSON object.');
  const version = parsed.Version;
  if (version !== '1') throw malformedPolicy('Version must be "1".');
  const statements = parsed.Statement;
  if (!Array.isArray(statements) || statements.length === 0) {
    throw malformedPolicy('Statement must be a non-empty array.');
  }
  return { version, statements: statements.map((s) => parseStatement(s, kind)) };
}

/** Parses without throwing; undefined for anything malformed (stored docs are already valid). */
export function tryParsePolicyDocument(text: string, kind: PolicyKind): PolicyDocument | undefined {
  try {
    return parsePolicyDocument(text, kind);
  } catch {
    return undefined;
  }
}

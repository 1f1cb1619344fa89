/**
 * What a RAM permission policy grants, judged against a list of privileged ("denied") action
 * patterns. Pure. See docs/adr/0008-privileged-actions.md for which actions are privileged and
 * why; every doubt here resolves towards "privileged": a false refusal costs a tenant a narrower
 * policy, a false pass costs the account.
 */

/**
 * Actions that let a holder widen its own or anyone's power in the account: RAM writes (create
 * users, keys, roles, attach policies), assuming arbitrary roles, identity-provider writes and
 * resource-directory / resource-group administration.
 */
export const DEFAULT_DENIED_ACTIONS: readonly string[] = [
  'ram:Create*',
  'ram:Update*',
  'ram:Delete*',
  'ram:Attach*',
  'ram:Detach*',
  'ram:Add*',
  'ram:Remove*',
  'ram:Set*',
  'ram:Put*',
  'ram:Change*',
  'ram:Bind*',
  'ram:Unbind*',
  'ram:Tag*',
  'ram:Untag*',
  'ram:Enable*',
  'ram:Disable*',
  'ram:Clear*',
  'sts:AssumeRole',
  'ims:*',
  'resourcemanager:*',
];

/**
 * A denied entry spelled exactly `sts:AssumeRole` is resource-qualified: granting it on one named
 * role is the normal RRSA chaining pattern; granting it on `*` or a role wildcard lets the pod
 * become any role of the account. Every other entry is privileged on any resource.
 */
const RESOURCE_QUALIFIED = 'sts:assumerole';

export interface PrivilegedGrant {
  /** Index into the document's Statement list (0 when Statement is a single object). */
  statementIndex: number;
  /** The policy's action pattern, or `NotAction [..]` for an Allow-with-NotAction statement. */
  action: string;
  /** The denied pattern it overlaps. */
  deniedBy: string;
}

export type PolicyJudgement =
  { kind: 'judged'; grants: PrivilegedGrant[] } | { kind: 'unjudgeable'; reason: string };

/**
 * True when some concrete string matches both `*`-glob patterns (case-insensitive). Product of
 * the two patterns' automata, searched from (0,0) to (end,end): a `*` may match nothing (skip it)
 * or swallow the other side's next literal; two literals must agree.
 */
export function globsOverlap(a: string, b: string): boolean {
  const p = a.toLowerCase();
  const q = b.toLowerCase();
  const seen = new Set<number>();
  const width = q.length + 1;
  const stack: [number, number][] = [[0, 0]];
  while (stack.length > 0) {
    const [i, j] = stack.pop()!;
    if (i === p.length && j === q.length) return true;
    if (seen.has(i * width + j)) continue;
    seen.add(i * width + j);
    const pc = p[i];
    const qc = q[j];
    if (pc === '*') stack.push([i + 1, j]);
    if (qc === '*') stack.push([i, j + 1]);
    if (pc === undefined || qc === undefined) continue;
    if (pc === '*' && qc !== '*') stack.push([i, j + 1]);
    else if (qc === '*' && pc !== '*') stack.push([i + 1, j]);
    else if (pc === qc) stack.push([i + 1, j + 1]);
  }
  return false;
}

/**
 * True when every string `inner` matches is also matched by `outer` (case-insensitive). Sound
 * but not complete: `inner`'s `*`s are read as a fresh letter no literal equals, so `outer` must
 * cover them with its own `*`s. When this says yes, containment holds; a rare "no" for a pair
 * that is in fact contained only makes the judgement stricter.
 */
export function globContains(outer: string, inner: string): boolean {
  const FRESH = '\u0000';
  const subject = inner.toLowerCase().replace(/\*/g, FRESH);
  const escaped = outer
    .toLowerCase()
    .replace(/[.+?^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '[\\s\\S]*');
  return new RegExp(`^${escaped}$`).test(subject);
}

interface Statement {
  effect: 'Allow' | 'Deny';
  actions: string[] | undefined;
  notActions: string[] | undefined;
  /** undefined: no Resource, or NotResource (which grants all but a few): not specific. */
  resources: string[] | undefined;
}

class Unjudgeable extends Error {}

function stringList(value: unknown, what: string): string[] | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value;
  throw new Unjudgeable(`${what} must be a string or a list of strings`);
}

function parseStatement(raw: unknown, index: number): Statement {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new Unjudgeable(`Statement[${index}] is not an object`);
  const s = raw as Record<string, unknown>;
  if (s.Effect !== 'Allow' && s.Effect !== 'Deny')
    throw new Unjudgeable(`Statement[${index}].Effect must be Allow or Deny`);
  const actions = stringList(s.Action, `Statement[${index}].Action`);
  const notActions = stringList(s.NotAction, `Statement[${index}].NotAction`);
  if ((actions === undefined) === (notActions === undefined))
    throw new Unjudgeable(`Statement[${index}] must have exactly one of Action and NotAction`);
  const resources = stringList(s.Resource, `Statement[${index}].Resource`);
  stringList(s.NotResource, `Statement[${index}].NotResource`);
  return {
    effect: s.Effect,
    actions,
    notActions,
    resources: s.NotResource === undefined ? resources : undefined,
  };
}

function parseStatements(document: string): Statement[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(document);
  } catch (error) {
    throw new Unjudgeable(`not JSON (${(error as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new Unjudgeable('not a JSON object');
  const statement = (parsed as Record<string, unknown>).Statement;
  if (statement === undefined) throw new Unjudgeable('no Statement');
  const list = Array.isArray(statement) ? statement : [statement];
  return list.map((s, i) => parseStatement(s, i));
}

/** Resource `*`, a role wildcard, or any other wildcard: the statement names no single role. */
function isSpecificResource(resources: readonly string[] | undefined): boolean {
  return (
    resources !== undefined && resources.length > 0 && resources.every((r) => !r.includes('*'))
  );
}

/** The denied patterns that apply to a statement with these resources. */
function applicableDenied(denied: readonly string[], statement: Statement): string[] {
  const specific = isSpecificResource(statement.resources);
  return denied.filter((d) => !(specific && d.toLowerCase() === RESOURCE_QUALIFIED));
}

function grantsOf(
  statement: Statement,
  index: number,
  denied: readonly string[],
): PrivilegedGrant[] {
  // Deny statements never add grants. Nor are they subtracted from Allow statements: doing so
  // would need RAM's full evaluation (Conditions, resources, NotAction in Deny); an Allow that a
  // Deny happens to cancel is still refused. Conditions on Allow are ignored for the same reason.
  if (statement.effect === 'Deny') return [];
  const applicable = applicableDenied(denied, statement);
  if (statement.notActions !== undefined) {
    // "Everything except N": privileged unless each denied pattern sits inside some entry of N.
    const action = `NotAction ${JSON.stringify(statement.notActions)}`;
    return applicable
      .filter((d) => !statement.notActions!.some((n) => globContains(n, d)))
      .map((deniedBy) => ({ statementIndex: index, action, deniedBy }));
  }
  return (statement.actions ?? []).flatMap((action) => {
    const deniedBy = applicable.find((d) => globsOverlap(action, d));
    return deniedBy === undefined ? [] : [{ statementIndex: index, action, deniedBy }];
  });
}

/** The privileged grants of a policy document, or why it cannot be judged (itself a refusal). */
export function judgePolicyDocument(document: string, denied: readonly string[]): PolicyJudgement {
  let statements: Statement[];
  try {
    statements = parseStatements(document);
  } catch (error) {
    if (error instanceof Unjudgeable) return { kind: 'unjudgeable', reason: error.message };
    throw error;
  }
  return { kind: 'judged', grants: statements.flatMap((s, i) => grantsOf(s, i, denied)) };
}

import type { ConditionBlock, PolicyDocument, Statement } from './policy-document.ts';

/**
 * Pure policy evaluation: role trust policies (who may assume a role) and permission policies
 * (what a caller may do). Semantics follow the RAM conditional-operator page (reference §7):
 * operators AND together, the values listed for one key OR together, the string operators are
 * case-sensitive except the IgnoreCase ones, and `*` / `?` are wildcards in the Like forms.
 *
 * Choices where the docs are silent ([unconfirmed]):
 * - a multi-valued context key (a JWT `aud` array) satisfies a positive operator when any of its
 *   values matches; a negated operator holds only when none matches;
 * - a key absent from the context fails the positive operators and satisfies the negated ones;
 * - an operator the emulator does not know makes the condition false, so an Allow with it never
 *   applies (and neither does a Deny: the emulator is not a security boundary).
 */

export type ConditionContext = Record<string, string[]>;

export type Decision = 'Allow' | 'ExplicitDeny' | 'ImplicitDeny';

const regexCache = new Map<string, RegExp>();

/** Glob match with `*` (any run) and `?` (one character). */
export function wildcardMatch(pattern: string, value: string, ignoreCase = false): boolean {
  const cacheKey = `${ignoreCase ? 'i' : 's'}:${pattern}`;
  let regex = regexCache.get(cacheKey);
  if (!regex) {
    const body = pattern
      .split('')
      .map((c) => {
        if (c === '*') return '.*';
        if (c === '?') return '.';
        return c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
      })
      .join('');
    regex = new RegExp(`^${body}$`, ignoreCase ? 'is' : 's');
    if (regexCache.size > 5000) regexCache.clear();
    regexCache.set(cacheKey, regex);
  }
  return regex.test(value);
}

type Matcher = (expected: string, actual: string) => boolean;

const POSITIVE: Record<string, Matcher> = {
  StringEquals: (e, a) => e === a,
  StringEqualsIgnoreCase: (e, a) => e.toLowerCase() === a.toLowerCase(),
  StringLike: (e, a) => wildcardMatch(e, a),
};

const NEGATED: Record<string, string> = {
  StringNotEquals: 'StringEquals',
  StringNotEqualsIgnoreCase: 'StringEqualsIgnoreCase',
  StringNotLike: 'StringLike',
};

function contextValues(context: ConditionContext, key: string): string[] | undefined {
  const lower = key.toLowerCase();
  for (const [name, values] of Object.entries(context)) {
    if (name.toLowerCase() === lower) return values;
  }
  return undefined;
}

function anyMatch(matcher: Matcher, expected: string[], actual: string[]): boolean {
  return actual.some((a) => expected.some((e) => matcher(e, a)));
}

/** One operator over one key. */
export function evaluateOperator(
  operator: string,
  expected: string[],
  actual: string[] | undefined,
): boolean {
  const positive = POSITIVE[operator];
  if (positive) return actual !== undefined && anyMatch(positive, expected, actual);
  const negatedOf = NEGATED[operator];
  const base = negatedOf ? POSITIVE[negatedOf] : undefined;
  if (base) return actual === undefined || !anyMatch(base, expected, actual);
  return false;
}

export function evaluateCondition(condition: ConditionBlock, context: ConditionContext): boolean {
  return Object.entries(condition).every(([operator, keys]) =>
    Object.entries(keys).every(([key, expected]) =>
      evaluateOperator(operator, expected, contextValues(context, key)),
    ),
  );
}

function listMatches(patterns: string[] | undefined, value: string): boolean {
  return (patterns ?? []).some((p) => wildcardMatch(p, value, true));
}

function actionApplies(statement: Statement, action: string): boolean {
  if (statement.actions) return listMatches(statement.actions, action);
  return !listMatches(statement.notActions, action);
}

function resourceApplies(statement: Statement, resource: string): boolean {
  if (statement.resources) return listMatches(statement.resources, resource);
  if (statement.notResources) return !listMatches(statement.notResources, resource);
  return true;
}

export interface FederatedRequest {
  providerArn: string;
  context: ConditionContext;
}

function federatedApplies(statement: Statement, request: FederatedRequest): boolean {
  const federated = statement.principal?.federated ?? [];
  return (
    actionApplies(statement, 'sts:AssumeRole') &&
    federated.some((p) => p === '*' || p.toLowerCase() === request.providerArn.toLowerCase()) &&
    evaluateCondition(statement.condition, request.context)
  );
}

/** Whether an OIDC identity may assume a role: some Allow applies and no Deny does. */
export function trustAllowsFederated(trust: PolicyDocument, request: FederatedRequest): boolean {
  const applying = trust.statements.filter((s) => federatedApplies(s, request));
  return applying.some((s) => s.effect === 'Allow') && !applying.some((s) => s.effect === 'Deny');
}

/**
 * Whether a RAM principal may assume a role. `principals` are the caller's accepted names, for
 * example `acs:ram::<uid>:root`, the bare account id, and a user ARN.
 */
export function trustAllowsRam(
  trust: PolicyDocument,
  principals: string[],
  context: ConditionContext = {},
): boolean {
  const lowered = principals.map((p) => p.toLowerCase());
  const applies = (s: Statement): boolean =>
    actionApplies(s, 'sts:AssumeRole') &&
    (s.principal?.ram ?? []).some((p) => p === '*' || lowered.includes(p.toLowerCase())) &&
    evaluateCondition(s.condition, context);
  const applying = trust.statements.filter(applies);
  return applying.some((s) => s.effect === 'Allow') && !applying.some((s) => s.effect === 'Deny');
}

export interface PermissionRequest {
  /** `ram:ListRoles`, `sts:AssumeRole`, ... matched case-insensitively. */
  action: string;
  /** An ARN like `acs:ram:*:<uid>:role/<name>`, or `*`. */
  resource: string;
  context: ConditionContext;
}

/** Identity-based evaluation over every attached policy: explicit Deny beats Allow. */
export function evaluatePermission(
  documents: PolicyDocument[],
  request: PermissionRequest,
): Decision {
  let allowed = false;
  for (const document of documents) {
    for (const statement of document.statements) {
      const applies =
        actionApplies(statement, request.action) &&
        resourceApplies(statement, request.resource) &&
        evaluateCondition(statement.condition, request.context);
      if (!applies) continue;
      if (statement.effect === 'Deny') return 'ExplicitDeny';
      allowed = true;
    }
  }
  return allowed ? 'Allow' : 'ImplicitDeny';
}

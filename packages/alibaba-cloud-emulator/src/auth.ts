import type { ActionContext, ActionSpec, Caller } from './context.ts';
import {
  accessKeyNotFound,
  ApiError,
  incompleteSignature,
  invalidSignatureMethod,
  missingParam,
  missingSecurityToken,
  noPermission,
  securityTokenExpired,
  securityTokenMalformed,
  securityTokenMismatch,
  signatureDoesNotMatch,
  signatureNonceUsed,
  timestampExpired,
} from './errors.ts';
import { tryParsePolicyDocument } from './policy-document.ts';
import { type Decision, evaluatePermission } from './policy-eval.ts';
import {
  type HeaderMap,
  parseV3Authorization,
  type SignedRequest,
  v3ShapeProblem,
  verifyV1,
  verifyV3,
} from './signature.ts';
import type { Accounts } from './accounts.ts';
import type { EmulatorState } from './state.ts';

/**
 * Who is calling (signature, access key, security token) and whether they may (their attached
 * policies). Long-term account keys may do everything, as an Alibaba account's own AK does.
 */

export interface AuthRequest extends SignedRequest {
  /** Query and form parameters merged. */
  params: Record<string, string>;
}

export interface AuthSettings {
  /** Accepted clock skew of x-acs-date / Timestamp against wall-clock time; 0 disables. */
  timestampWindowMs: number;
  wallClock: () => number;
  /** Emulator time, for STS session expiry. */
  now: () => number;
  nonces: NonceCache;
}

/** Remembers signature nonces for the timestamp window, so a replayed request is refused. */
export class NonceCache {
  private readonly seen = new Map<string, number>();

  /** false when the nonce was already used within `ttlMs`. */
  claim(nonce: string, now: number, ttlMs: number): boolean {
    const expires = this.seen.get(nonce);
    if (expires !== undefined && expires > now) return false;
    if (this.seen.size > 50_000) {
      for (const [key, until] of this.seen) if (until <= now) this.seen.delete(key);
    }
    this.seen.set(nonce, now + ttlMs);
    return true;
  }

  clear(): void {
    this.seen.clear();
  }
}

function header(headers: HeaderMap, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

interface Identity {
  caller: Caller;
  secret: string;
}

/** Who called, and the account that serves the request (the one owning the key). */
export interface Authenticated {
  caller: Caller;
  state: EmulatorState;
}

function stsIdentity(state: EmulatorState, accessKeyId: string, token: string | undefined) {
  if (!token) throw missingSecurityToken();
  const session = state.sessions.get(accessKeyId);
  if (!session) {
    const owner = [...state.sessions.values()].some((s) => s.securityToken === token);
    throw owner ? securityTokenMismatch() : securityTokenMalformed();
  }
  if (session.securityToken !== token) throw securityTokenMismatch();
  return {
    caller: { kind: 'session', accessKeyId, session } as const,
    secret: session.accessKeySecret,
  };
}

function resolveIdentity(
  accounts: Accounts,
  accessKeyId: string,
  token: string | undefined,
): Identity & { state: EmulatorState } {
  // An unknown key is judged by the home account, so its errors read as they always did.
  const state = accounts.ownerOf(accessKeyId) ?? accounts.home;
  return { ...identityIn(state, accessKeyId, token), state };
}

function identityIn(
  state: EmulatorState,
  accessKeyId: string,
  token: string | undefined,
): Identity {
  const accountSecret = state.accountKeys.get(accessKeyId);
  if (accountSecret !== undefined) {
    return { caller: { kind: 'account', accessKeyId }, secret: accountSecret };
  }
  const user = [...state.users.values()].find((u) => u.accessKeyId === accessKeyId);
  if (user) return { caller: { kind: 'user', accessKeyId, user }, secret: user.accessKeySecret };
  if (accessKeyId.startsWith('STS.')) return stsIdentity(state, accessKeyId, token);
  throw accessKeyNotFound();
}

function checkFreshness(
  settings: AuthSettings,
  timestamp: string | undefined,
  nonce: string | undefined,
): void {
  const window = settings.timestampWindowMs;
  if (window <= 0) return;
  const now = settings.wallClock();
  if (timestamp !== undefined) {
    const at = Date.parse(timestamp);
    if (Number.isNaN(at)) {
      throw new ApiError(
        'InvalidTimeStamp.Format',
        400,
        'Specified time stamp or date value is not well formatted.',
      );
    }
    if (Math.abs(now - at) > window) throw timestampExpired();
  }
  if (nonce !== undefined && !settings.nonces.claim(nonce, now, 2 * window)) {
    throw signatureNonceUsed();
  }
}

function authenticateV3(
  request: AuthRequest,
  authorization: string,
  settings: AuthSettings,
  accounts: Accounts,
): Identity & { state: EmulatorState } {
  const auth = parseV3Authorization(authorization);
  if (!auth) throw incompleteSignature('The Authorization header is malformed.');
  const problem = v3ShapeProblem(request, auth);
  if (problem) throw incompleteSignature(problem);
  const identity = resolveIdentity(
    accounts,
    auth.accessKeyId,
    header(request.headers, 'x-acs-security-token'),
  );
  if (!verifyV3(request, auth, identity.secret)) throw signatureDoesNotMatch();
  checkFreshness(
    settings,
    header(request.headers, 'x-acs-date'),
    header(request.headers, 'x-acs-signature-nonce'),
  );
  return identity;
}

function authenticateV1(
  request: AuthRequest,
  settings: AuthSettings,
  accounts: Accounts,
): Identity & { state: EmulatorState } {
  const { params } = request;
  const accessKeyId = params.AccessKeyId;
  if (!accessKeyId) throw missingParam('AccessKeyId');
  if ((params.SignatureMethod ?? 'HMAC-SHA1') !== 'HMAC-SHA1') throw invalidSignatureMethod();
  const identity = resolveIdentity(accounts, accessKeyId, params.SecurityToken);
  if (!verifyV1(params, request.method, identity.secret)) throw signatureDoesNotMatch();
  checkFreshness(settings, params.Timestamp, params.SignatureNonce);
  return identity;
}

/** The caller of a signed request; throws the gateway's authentication errors. */
export function authenticate(
  request: AuthRequest,
  accounts: Accounts,
  settings: AuthSettings,
): Authenticated {
  const authorization = header(request.headers, 'authorization');
  let identity: Identity & { state: EmulatorState };
  if (authorization) identity = authenticateV3(request, authorization, settings, accounts);
  else if (request.params.Signature) identity = authenticateV1(request, settings, accounts);
  else if (request.params.AccessKeyId) throw missingParam('Signature');
  else throw missingParam('AccessKeyId');
  if (identity.caller.kind === 'session' && identity.caller.session.expiresAt <= settings.now()) {
    throw securityTokenExpired();
  }
  return { caller: identity.caller, state: identity.state };
}

function combine(a: Decision, b: Decision): Decision {
  if (a === 'ExplicitDeny' || b === 'ExplicitDeny') return 'ExplicitDeny';
  return a === 'Allow' && b === 'Allow' ? 'Allow' : 'ImplicitDeny';
}

/** Identity-based check of RAM users and assumed roles; throws NoPermission with the detail. */
export function authorize(spec: ActionSpec, ctx: ActionContext): void {
  const { caller, state } = ctx;
  if (!spec.authAction || caller.kind === 'account' || caller.kind === 'anonymous') return;
  const request = {
    action: spec.authAction,
    resource: spec.resource ? spec.resource(ctx) : '*',
    context: {},
  };
  let decision: Decision;
  let policyType = 'AccountLevelIdentityBasedPolicy';
  if (caller.kind === 'user') {
    decision = evaluatePermission(state.documentsFor(caller.user.policies), request);
  } else {
    const role = state.findRole(caller.session.roleName);
    decision = evaluatePermission(role ? state.documentsFor(role.policies) : [], request);
    const sessionPolicy = caller.session.sessionPolicy;
    const parsed = sessionPolicy ? tryParsePolicyDocument(sessionPolicy, 'permission') : undefined;
    if (parsed) {
      const sessionDecision = evaluatePermission([parsed], request);
      if (decision === 'Allow' && sessionDecision !== 'Allow') policyType = 'SessionPolicy';
      decision = combine(decision, sessionDecision);
    }
  }
  if (decision === 'Allow') return;
  const principal =
    caller.kind === 'user'
      ? { type: 'SubUser', name: caller.user.name }
      : {
          // [unconfirmed] the principal type and display name the gateway uses for roles.
          type: 'AssumedRoleUser',
          name: `${caller.session.roleName}:${caller.session.sessionName}`,
        };
  const diagnostic = { ...request, principal: principal.name, decision };
  throw noPermission({
    PolicyType: policyType,
    AuthPrincipalOwnerId: state.accountId,
    EncodedDiagnosticMessage: Buffer.from(JSON.stringify(diagnostic)).toString('base64'),
    AuthPrincipalType: principal.type,
    AuthPrincipalDisplayName: principal.name,
    NoPermissionType: decision,
    AuthAction: spec.authAction,
  });
}

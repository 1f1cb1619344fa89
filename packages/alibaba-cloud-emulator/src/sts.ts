import {
  type ActionContext,
  type ActionSpec,
  defineActions,
  type ResponseBody,
} from './context.ts';
import {
  ApiError,
  oidcAudienceNotMatch,
  oidcExpired,
  oidcInvalid,
  oidcInvalidSignature,
  oidcIssuerBroken,
  oidcIssuerNotMatch,
  noSuchOidcProvider,
  paramInvalid,
  paramLength,
  stsRoleNotFound,
  trustPolicyDenied,
} from './errors.ts';
import { isoSeconds } from './ids.ts';
import {
  audiences,
  candidateKeys,
  decodeJwt,
  type DecodedJwt,
  type Jwks,
  numericClaim,
  stringClaim,
  verifyJwtSignature,
} from './jwt.ts';
import { tryParsePolicyDocument } from './policy-document.ts';
import { trustAllowsFederated, trustAllowsRam } from './policy-eval.ts';
import type { EmulatorState, OidcProviderRecord, RoleRecord, StsSession } from './state.ts';

/** STS 2015-04-01: GetCallerIdentity, AssumeRoleWithOIDC (anonymous) and AssumeRole (reference §4). */

const SESSION_NAME = /^[A-Za-z0-9.@_-]{2,64}$/;
const MIN_DURATION = 900;
/** Sessions stay known this long after expiry, so their tokens fail as Expired, not Malformed. */
const SESSION_RETENTION_MS = 24 * 3600 * 1000;

function sessionName(ctx: ActionContext, fallback?: () => string): string {
  const value = fallback
    ? (ctx.params.optional('RoleSessionName') ?? fallback())
    : ctx.params.required('RoleSessionName');
  if (!SESSION_NAME.test(value)) throw paramInvalid('RoleSessionName');
  return value;
}

function sessionPolicy(ctx: ActionContext): string | undefined {
  const policy = ctx.params.optional('Policy');
  if (policy === undefined) return undefined;
  if (policy.length > 2048) throw paramLength('Policy');
  if (!tryParsePolicyDocument(policy, 'permission')) {
    throw new ApiError(
      'InvalidParameter.PolicyGrammar',
      400,
      'The parameter Policy has not a valid grammar.',
    );
  }
  return policy;
}

function durationBounds(ctx: ActionContext): number {
  // Format and the lower bound first; the upper bound depends on the role.
  return ctx.params.integer('DurationSeconds', MIN_DURATION, Number.MAX_SAFE_INTEGER, 3600);
}

function checkDuration(duration: number, role: RoleRecord): void {
  if (duration > role.maxSessionDuration) {
    // [unconfirmed] wording; the code is documented for AssumeRole.
    throw new ApiError(
      'InvalidParameter.DurationSeconds',
      400,
      `The Min/Max value of DurationSeconds is 15min/${role.maxSessionDuration / 3600}hr.`,
    );
  }
}

/**
 * The role a RoleArn names, in `account` (AssumeRoleWithOIDC: the provider's account) or in
 * whichever account the ARN names (AssumeRole may cross accounts); else EntityNotExist.Role.
 */
function roleFromArn(
  ctx: ActionContext,
  arn: string,
  account?: EmulatorState,
): { role: RoleRecord; owner: EmulatorState } {
  const match = /^acs:ram::(\d+):role\/(.+)$/i.exec(arn);
  if (!match) throw paramInvalid('RoleArn');
  const owner = account ?? ctx.accounts.get(match[1] ?? '');
  const role = owner?.accountId === match[1] ? owner?.findRole(match[2] ?? '') : undefined;
  if (!role || !owner) throw stsRoleNotFound(arn);
  return { role, owner };
}

function pruneSessions(ctx: ActionContext, owner: EmulatorState): void {
  const cutoff = ctx.clock.now() - SESSION_RETENTION_MS;
  for (const [id, session] of owner.sessions) {
    if (session.expiresAt < cutoff) owner.sessions.delete(id);
  }
}

/** A session of `role`, kept by the account owning the role (its keys then call as that account). */
function issueSession(
  ctx: ActionContext,
  owner: EmulatorState,
  role: RoleRecord,
  fields: Pick<StsSession, 'sessionName' | 'sessionPolicy' | 'via' | 'subject'>,
  duration: number,
): { session: StsSession; body: ResponseBody } {
  pruneSessions(ctx, owner);
  const now = ctx.clock.now();
  const session: StsSession = {
    ...fields,
    accessKeyId: `STS.${ctx.ids.alnum(25)}`,
    accessKeySecret: ctx.ids.alnum(44),
    securityToken: `CAIS${ctx.ids.bytes(240).toString('base64')}`,
    roleName: role.roleName,
    roleId: role.roleId,
    issuedAt: now,
    expiresAt: now + duration * 1000,
  };
  owner.sessions.set(session.accessKeyId, session);
  const body = {
    AssumedRoleUser: {
      Arn: `${owner.roleArn(role.roleName)}/${session.sessionName}`,
      AssumedRoleId: `${role.roleId}:${session.sessionName}`,
    },
    Credentials: {
      AccessKeyId: session.accessKeyId,
      AccessKeySecret: session.accessKeySecret,
      SecurityToken: session.securityToken,
      Expiration: isoSeconds(session.expiresAt),
    },
  };
  return { session, body };
}

function findProvider(ctx: ActionContext, arn: string): OidcProviderRecord {
  const match = /^acs:ram::(\d+):oidc-provider\/(.+)$/i.exec(arn);
  const provider =
    match && match[1] === ctx.state.accountId
      ? ctx.state.oidcProviders.get((match[2] ?? '').toLowerCase())
      : undefined;
  if (!provider) throw noSuchOidcProvider();
  return provider;
}

/** exp / nbf / iat against the emulator clock and the provider's IssuanceLimitTime. */
function checkTimes(ctx: ActionContext, jwt: DecodedJwt, provider: OidcProviderRecord): void {
  const now = ctx.clock.now() / 1000;
  const exp = numericClaim(jwt.claims, 'exp');
  if (exp === undefined) throw oidcInvalid('The Jwt content is invalid: exp is missing.');
  if (exp <= now) throw oidcExpired();
  const nbf = numericClaim(jwt.claims, 'nbf');
  // [unconfirmed] wording of the two checks below.
  if (nbf !== undefined && nbf > now) throw oidcInvalid('The Jwt is not valid yet (nbf).');
  const iat = numericClaim(jwt.claims, 'iat');
  if (iat !== undefined && now - iat > provider.issuanceLimitTime * 3600) {
    throw oidcInvalid('The Jwt was issued earlier than the IssuanceLimitTime of the provider.');
  }
}

async function verifySignature(ctx: ActionContext, jwt: DecodedJwt, issuer: string): Promise<void> {
  let jwks: Jwks;
  try {
    jwks = await ctx.jwks.keys(issuer);
    // An unknown kid may mean the issuer rotated keys: refetch once (unless just fetched).
    if (candidateKeys(jwt, jwks).length === 0 && (ctx.jwks.cachedFor(issuer) ?? 0) > 1000) {
      jwks = await ctx.jwks.keys(issuer, true);
    }
  } catch (error) {
    ctx.log(`emulator: fetching the keys of ${issuer} failed: ${String(error)}`);
    throw oidcIssuerBroken(issuer);
  }
  if (!verifyJwtSignature(jwt, candidateKeys(jwt, jwks))) throw oidcInvalidSignature();
}

async function assumeRoleWithOidc(ctx: ActionContext): Promise<ResponseBody> {
  const { params } = ctx;
  const providerArn = params.required('OIDCProviderArn');
  const roleArn = params.required('RoleArn');
  // [unconfirmed]: RoleSessionName treated as optional, defaulting like the credentials SDK.
  const name = sessionName(ctx, () => `oidc-session-${ctx.ids.digits(10)}`);
  const policy = sessionPolicy(ctx);
  const duration = durationBounds(ctx);
  const jwt = decodeJwt(params.raw.OIDCToken ?? '');
  const provider = findProvider(ctx, providerArn);
  const issuer = stringClaim(jwt.claims, 'iss');
  // Exact comparison, as OIDC prescribes for `iss` [unconfirmed: STS may normalise slashes].
  if (issuer === undefined || issuer !== provider.issuerUrl) throw oidcIssuerNotMatch();
  const auds = audiences(jwt.claims);
  if (!auds.some((a) => provider.clientIds.includes(a))) throw oidcAudienceNotMatch();
  checkTimes(ctx, jwt, provider);
  await verifySignature(ctx, jwt, provider.issuerUrl);
  const { role } = roleFromArn(ctx, roleArn, ctx.state);
  const subject = stringClaim(jwt.claims, 'sub') ?? '';
  const trust = tryParsePolicyDocument(role.trustPolicy, 'trust');
  const context = { 'oidc:iss': [issuer], 'oidc:aud': auds, 'oidc:sub': [subject] };
  if (
    !trust ||
    !trustAllowsFederated(trust, { providerArn: ctx.state.oidcProviderArn(provider.name), context })
  ) {
    throw trustPolicyDenied();
  }
  checkDuration(duration, role);
  const { body } = issueSession(
    ctx,
    ctx.state,
    role,
    { sessionName: name, sessionPolicy: policy, via: 'AssumeRoleWithOIDC', subject },
    duration,
  );
  const iat = numericClaim(jwt.claims, 'iat');
  const exp = numericClaim(jwt.claims, 'exp') ?? 0;
  return {
    ...body,
    OIDCTokenInfo: {
      Subject: subject,
      Issuer: issuer,
      ClientIds: auds.join(','),
      ...(iat !== undefined ? { IssuanceTime: isoSeconds(iat * 1000) } : {}),
      ExpirationTime: isoSeconds(exp * 1000),
      VerificationInfo: 'Success',
    },
  };
}

/**
 * The names a caller is known by in a trust policy's `Principal.RAM`: its account (`root` or the
 * bare uid: the account delegates to its own RAM identities), a RAM user's ARN, an assumed role's
 * role ARN. The caller's account is the one that signed, so another account's role trusts it only
 * when it names that account.
 */
function ramPrincipals(ctx: ActionContext): string[] {
  const uid = ctx.state.accountId;
  const names = [`acs:ram::${uid}:root`, uid];
  const { caller } = ctx;
  if (caller.kind === 'user') names.push(`acs:ram::${uid}:user/${caller.user.name}`);
  if (caller.kind === 'session') names.push(`acs:ram::${uid}:role/${caller.session.roleName}`);
  return names;
}

function assumeRole(ctx: ActionContext): ResponseBody {
  const roleArn = ctx.params.required('RoleArn');
  const name = sessionName(ctx);
  const policy = sessionPolicy(ctx);
  const duration = durationBounds(ctx);
  const externalId = ctx.params.optional('ExternalId');
  const { role, owner } = roleFromArn(ctx, roleArn);
  const trust = tryParsePolicyDocument(role.trustPolicy, 'trust');
  // `sts:ExternalId` is absent from the context when the caller sent none, so a trust policy
  // that requires one refuses such a call (a StringEquals on an absent key is false).
  const context: Record<string, string[]> =
    externalId === undefined ? {} : { 'sts:ExternalId': [externalId] };
  if (!trust || !trustAllowsRam(trust, ramPrincipals(ctx), context)) {
    throw new ApiError(
      'NoPermission',
      403,
      'No permission perform sts:AssumeRole on this Role. Maybe you should check the role trust policy.',
    );
  }
  checkDuration(duration, role);
  const via = 'AssumeRole' as const;
  return issueSession(
    ctx,
    owner,
    role,
    { sessionName: name, sessionPolicy: policy, via, subject: undefined },
    duration,
  ).body;
}

function getCallerIdentity(ctx: ActionContext): ResponseBody {
  const uid = ctx.state.accountId;
  const { caller } = ctx;
  if (caller.kind === 'session') {
    const s = caller.session;
    return {
      AccountId: uid,
      Arn: `acs:ram::${uid}:assumed-role/${s.roleName}/${s.sessionName}`,
      IdentityType: 'AssumedRoleUser',
      PrincipalId: `${s.roleId}:${s.sessionName}`,
      RoleId: s.roleId,
    };
  }
  if (caller.kind === 'user') {
    return {
      AccountId: uid,
      Arn: `acs:ram::${uid}:user/${caller.user.name}`,
      IdentityType: 'RAMUser',
      PrincipalId: caller.user.userId,
      UserId: caller.user.userId,
    };
  }
  return {
    AccountId: uid,
    Arn: `acs:ram::${uid}:root`,
    IdentityType: 'Account',
    PrincipalId: uid,
    UserId: uid,
  };
}

export const STS_ACTIONS: ActionSpec[] = defineActions('sts', 'sts', {
  GetCallerIdentity: { write: false, noAuthz: true, handler: getCallerIdentity },
  AssumeRoleWithOIDC: {
    write: false,
    anonymous: true,
    anonymousAccountArn: (params) => params.OIDCProviderArn,
    handler: assumeRoleWithOidc,
  },
  AssumeRole: {
    write: false,
    resource: (ctx) => ctx.params.optional('RoleArn') ?? '*',
    handler: assumeRole,
  },
});

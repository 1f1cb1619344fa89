/**
 * The error catalogue: every error the emulator answers with, as Alibaba's POP gateway shapes it
 * (`{RequestId, HostId, Code, Message, Recommend}`, always JSON, see reference §2.7).
 *
 * Codes, statuses and messages come from docs/reference/alibaba-cloud-api.md where it states them;
 * everything marked [unconfirmed] below is a design choice (the code string may be real, but the
 * status or the wording could not be pinned down).
 */

export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly code: string;
  readonly status: number;
  /** Extra body fields (for example AccessDeniedDetail). */
  readonly extra: Record<string, unknown>;
  /** Extra response headers (for example x-acs-retry-after). */
  readonly headers: Record<string, string>;

  constructor(
    code: string,
    status: number,
    message: string,
    extra: Record<string, unknown> = {},
    headers: Record<string, string> = {},
  ) {
    super(message);
    this.code = code;
    this.status = status;
    this.extra = extra;
    this.headers = headers;
  }
}

const quoted = (param: string): string => `The parameter - "${param}"`;

// ---- POP gateway (all products) ----

/** `Missing<Param>` / "<Param> is mandatory for this action." 400 (reference §2.7). */
export function missingParam(param: string): ApiError {
  return new ApiError(`Missing${param}`, 400, `${param} is mandatory for this action.`);
}

export function signatureDoesNotMatch(): ApiError {
  return new ApiError(
    'SignatureDoesNotMatch',
    400,
    'Specified signature does not match our calculation.',
  );
}

export function incompleteSignature(detail: string): ApiError {
  // [unconfirmed] wording; the code is listed in reference §2.7.
  return new ApiError(
    'IncompleteSignature',
    400,
    `The request signature does not conform to Alibaba Cloud standards. ${detail}`,
  );
}

export function accessKeyNotFound(): ApiError {
  // Status 404 and wording as public POP error bodies show them.
  return new ApiError('InvalidAccessKeyId.NotFound', 404, 'Specified access key is not found.');
}

// [unconfirmed] statuses for the security-token family: 400, like the other gateway checks.
export function securityTokenExpired(): ApiError {
  return new ApiError('InvalidSecurityToken.Expired', 400, 'Specified SecurityToken is expired.');
}

export function securityTokenMismatch(): ApiError {
  return new ApiError(
    'InvalidSecurityToken.MismatchWithAccessKey',
    400,
    'Specified SecurityToken mismatch with the AccessKey.',
  );
}

export function securityTokenMalformed(): ApiError {
  return new ApiError(
    'InvalidSecurityToken.Malformed',
    400,
    'Specified SecurityToken is malformed.',
  );
}

export function missingSecurityToken(): ApiError {
  return new ApiError('MissingSecurityToken', 400, 'SecurityToken is mandatory for this action.');
}

export function timestampExpired(): ApiError {
  // [unconfirmed] wording and status.
  return new ApiError(
    'InvalidTimeStamp.Expired',
    400,
    'Specified time stamp or date value is expired.',
  );
}

export function signatureNonceUsed(): ApiError {
  // [unconfirmed] wording and status.
  return new ApiError('SignatureNonceUsed', 400, 'Specified signature nonce was used already.');
}

export function invalidSignatureMethod(): ApiError {
  // [unconfirmed] wording and status.
  return new ApiError(
    'InvalidSignatureMethod',
    400,
    'Specified signature method is not supported.',
  );
}

export function apiNotFound(action: string, version: string): ApiError {
  // [unconfirmed] status 404 and wording; the code string is a documented POP code.
  return new ApiError(
    'InvalidApi.NotFound',
    404,
    `Specified api is not found, please check your url and method. (${action}, ${version})`,
  );
}

export function internalError(): ApiError {
  return new ApiError(
    'InternalError',
    500,
    'The request processing has failed due to some unknown error, exception or failure.',
  );
}

export function throttled(code = 'Throttling.User', status = 400): ApiError {
  // Status [unconfirmed]: the SDK classifies Throttling* by code alone (reference §3).
  return new ApiError(code, status, 'Request was denied due to user flow control.');
}

/** NoPermission 403 with the AccessDeniedDetail object the current gateway adds. */
export function noPermission(detail: Record<string, string>): ApiError {
  return new ApiError('NoPermission', 403, 'You are not authorized to do this action.', {
    AccessDeniedDetail: detail,
  });
}

// ---- parameter validation ----

export function invalidParam(param: string, suffix: string, message: string): ApiError {
  return new ApiError(`InvalidParameter.${param}.${suffix}`, 400, message);
}

export function paramLength(param: string): ApiError {
  return invalidParam(param, 'Length', `${quoted(param)} beyond the length limit.`);
}

export function paramInvalidChars(param: string): ApiError {
  return invalidParam(param, 'InvalidChars', `${quoted(param)} contains invalid chars.`);
}

/** A parameter with an invalid value: `InvalidParameter.<Param>` [unconfirmed wording]. */
export function paramInvalid(param: string, why = 'is invalid.'): ApiError {
  return new ApiError(`InvalidParameter.${param}`, 400, `${quoted(param)} ${why}`);
}

export function malformedPolicy(detail: string): ApiError {
  return new ApiError('MalformedPolicyDocument', 400, detail);
}

// ---- RAM entities ----

export function roleNotFound(name: string): ApiError {
  return new ApiError('EntityNotExist.Role', 404, `The role does not exist: ${name}.`);
}

export function roleExists(): ApiError {
  return new ApiError('EntityAlreadyExists.Role', 409, 'The role does already EXIST.');
}

export function roleHasPolicies(): ApiError {
  return new ApiError(
    'DeleteConflict.Role.Policy',
    409,
    'The role CAN NOT has any attached policy while deleting the role.',
  );
}

export function policyNotFound(name: string): ApiError {
  return new ApiError('EntityNotExist.Policy', 404, `The policy does not exist: ${name}.`);
}

export function policyExists(name: string): ApiError {
  return new ApiError('EntityAlreadyExists.Policy', 409, `The policy already exists: ${name}.`);
}

export function policyVersionNotFound(version: string): ApiError {
  return new ApiError(
    'EntityNotExist.Policy.Version',
    404,
    `The policy version does not exist: ${version}.`,
  );
}

// [unconfirmed] statuses 409/404 for the attachment pair (reference §3) and all wordings here.
export function alreadyAttached(): ApiError {
  return new ApiError(
    'EntityAlreadyExists.Role.Policy',
    409,
    'The policy has already been attached to the role.',
  );
}

export function notAttached(): ApiError {
  return new ApiError('EntityNotExist.Role.Policy', 404, 'The policy is not attached to the role.');
}

export function conflict(code: string, message: string): ApiError {
  return new ApiError(code, 409, message);
}

export function limitExceeded(code: string, what: string): ApiError {
  return new ApiError(code, 409, `The count of ${what} exceeds the limit.`);
}

// ---- IMS OIDC providers ([unconfirmed]: no IMS error table was found) ----

export function oidcProviderNotFound(name: string): ApiError {
  return new ApiError(
    'EntityNotExist.OIDCProvider',
    404,
    `The OIDC provider does not exist: ${name}.`,
  );
}

export function oidcProviderExists(name: string): ApiError {
  return new ApiError(
    'EntityAlreadyExists.OIDCProvider',
    409,
    `The OIDC provider already exists: ${name}.`,
  );
}

// ---- STS AssumeRoleWithOIDC (401 for the AuthenticationFail family, reference §4) ----

export function authFail(suffix: string, message: string): ApiError {
  return new ApiError(`AuthenticationFail.${suffix}`, 401, message);
}

export function oidcInvalid(message: string): ApiError {
  return authFail('OIDCToken.Invalid', message);
}

export function oidcExpired(): ApiError {
  return authFail('OIDCToken.Expired', 'This JsonWebToken is expired.');
}

export function oidcInvalidSignature(): ApiError {
  return authFail('OIDCToken.InvalidSignature', 'OIDC token validate failed: invalid signature.');
}

export function oidcAudienceNotMatch(): ApiError {
  return authFail('OIDCToken.AudienceNotMatch', 'Invalid audience.');
}

/** Code and message from the ACK RRSA troubleshooting table; status 401 by family. */
export function oidcIssuerNotMatch(): ApiError {
  return authFail(
    'OIDCToken.IssuerNotMatch',
    "The issuer in the OIDC Token doesn't match the OIDC Provider registered.",
  );
}

export function oidcIssuerBroken(issuer: string): ApiError {
  return authFail(
    'OIDCToken.IssuerConfigurationBroken',
    `Get public keys from OIDC Provider failed, the issuer is ${issuer}.`,
  );
}

export function noSuchOidcProvider(): ApiError {
  return authFail('NoPermission', 'No such OIDC Provider registered.');
}

export function trustPolicyDenied(): ApiError {
  return authFail('NoPermission', 'There is no permission');
}

/** The STS wording for a missing role (ACK RRSA troubleshooting table): it names the ARN. */
export function stsRoleNotFound(arn: string): ApiError {
  return new ApiError('EntityNotExist.Role', 404, `The role not exists: ${arn}.`);
}

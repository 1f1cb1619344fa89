import { constants, createPublicKey, type JsonWebKey, verify } from 'node:crypto';
import { oidcInvalid } from './errors.ts';

/**
 * Pure JWT handling for AssumeRoleWithOIDC: decode the compact form, check its signature
 * against a JWKS, read the claims. The messages of `AuthenticationFail.OIDCToken.Invalid` are
 * the ones Alibaba's error table shows (reference §4), abbreviated where it elides them.
 */

export interface JwtHeader {
  alg: string;
  kid?: string;
  typ?: string;
}

export interface JwtClaims {
  iss?: unknown;
  sub?: unknown;
  aud?: unknown;
  exp?: unknown;
  nbf?: unknown;
  iat?: unknown;
  [claim: string]: unknown;
}

export interface DecodedJwt {
  header: JwtHeader;
  claims: JwtClaims;
  signingInput: string;
  signature: Buffer;
}

export interface Jwks {
  keys: JsonWebKey[];
}

const SUPPORTED = /^(RS|PS|ES)(256|384|512)$/;

function decodeSegment(segment: string, what: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
      return parsed as Record<string, unknown>;
    }
  } catch {
    // fall through
  }
  throw oidcInvalid(`The Jwt content is invalid: the ${what} is not a JSON object.`);
}

export function decodeJwt(token: string): DecodedJwt {
  const trimmed = token.trim();
  if (trimmed === '') throw oidcInvalid('The OIDCToken can not empty.');
  const parts = trimmed.split('.');
  if (parts.length !== 3) {
    throw oidcInvalid("The number of Jwt field should be divided into 3 parts with '.' .");
  }
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  const header = decodeSegment(headerPart, 'header');
  const claims = decodeSegment(payloadPart, 'payload');
  const alg = typeof header.alg === 'string' ? header.alg : 'none';
  if (!SUPPORTED.test(alg)) throw oidcInvalid(`The algorithm ${alg} is unknown.`);
  return {
    header: {
      alg,
      ...(typeof header.kid === 'string' ? { kid: header.kid } : {}),
      ...(typeof header.typ === 'string' ? { typ: header.typ } : {}),
    },
    claims,
    signingInput: `${headerPart}.${payloadPart}`,
    signature: Buffer.from(signaturePart, 'base64url'),
  };
}

function keyTypeFor(alg: string): string {
  return alg.startsWith('ES') ? 'EC' : 'RSA';
}

/** Keys that could have signed this token: the `kid` match, or every key of the right type. */
export function candidateKeys(jwt: DecodedJwt, jwks: Jwks): JsonWebKey[] {
  const kty = keyTypeFor(jwt.header.alg);
  return jwks.keys.filter(
    (k) =>
      k.kty === kty &&
      (k.use === undefined || k.use === 'sig') &&
      (jwt.header.kid === undefined || k.kid === jwt.header.kid),
  );
}

function verifyWith(jwt: DecodedJwt, jwk: JsonWebKey): boolean {
  const { alg } = jwt.header;
  const digest = `sha${alg.slice(2)}`;
  try {
    const key = createPublicKey({ key: jwk, format: 'jwk' });
    const data = Buffer.from(jwt.signingInput);
    if (alg.startsWith('RS')) return verify(digest, data, key, jwt.signature);
    if (alg.startsWith('PS')) {
      return verify(
        digest,
        data,
        { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: Number(alg.slice(2)) / 8 },
        jwt.signature,
      );
    }
    return verify(digest, data, { key, dsaEncoding: 'ieee-p1363' }, jwt.signature);
  } catch {
    return false;
  }
}

export function verifyJwtSignature(jwt: DecodedJwt, keys: JsonWebKey[]): boolean {
  return keys.some((k) => verifyWith(jwt, k));
}

export function stringClaim(claims: JwtClaims, name: string): string | undefined {
  const value = claims[name];
  return typeof value === 'string' ? value : undefined;
}

export function numericClaim(claims: JwtClaims, name: string): number | undefined {
  const value = claims[name];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** `aud` as a list: a JWT may carry one audience string or an array of them. */
export function audiences(claims: JwtClaims): string[] {
  const aud = claims.aud;
  if (typeof aud === 'string') return [aud];
  if (Array.isArray(aud)) return aud.filter((a): a is string => typeof a === 'string');
  return [];
}

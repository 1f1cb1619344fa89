import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Pure verification of the two signature schemes the @alicloud SDKs use (reference §2.4, §2.5):
 * ACS3-HMAC-SHA256 ("V3", the default) and the legacy RPC HMAC-SHA1 ("V1").
 */

export type HeaderMap = Record<string, string | string[] | undefined>;

export interface SignedRequest {
  method: string;
  /** The raw query string, without the leading `?`. */
  rawQuery: string;
  /** Node's lower-cased request headers. */
  headers: HeaderMap;
  body: Buffer;
}

export interface V3Authorization {
  algorithm: string;
  accessKeyId: string;
  signedHeaders: string[];
  signature: string;
}

/** encodeURIComponent plus `! ' ( ) *`, as openapi-core's `encode`. */
export function acsEncode(value: string): string {
  return encodeURIComponent(value)
    .replace(/!/g, '%21')
    .replace(/'/g, '%27')
    .replace(/\(/g, '%28')
    .replace(/\)/g, '%29')
    .replace(/\*/g, '%2A');
}

export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

function headerValue(headers: HeaderMap, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/** Parses `ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=a;b,Signature=hex`; undefined if malformed. */
export function parseV3Authorization(header: string): V3Authorization | undefined {
  const match = /^(\S+)\s+(.*)$/.exec(header.trim());
  if (!match) return undefined;
  const fields = new Map<string, string>();
  for (const part of (match[2] ?? '').split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const accessKeyId = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (!accessKeyId || signedHeaders === undefined || !signature) return undefined;
  return {
    algorithm: match[1] ?? '',
    accessKeyId,
    signedHeaders: signedHeaders.split(';').filter((h) => h !== ''),
    signature,
  };
}

/** Decoded query parameters; a repeated key keeps its last value (the SDK sends a map). */
export function parseQuery(rawQuery: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(rawQuery)) out[key] = value;
  return out;
}

export function canonicalQueryV3(rawQuery: string): string {
  const query = parseQuery(rawQuery);
  return Object.keys(query)
    .sort()
    .map((key) => `${key}=${acsEncode(query[key] ?? '')}`)
    .join('&');
}

export function canonicalRequestV3(request: SignedRequest, signedHeaders: string[]): string {
  const names = signedHeaders.map((h) => h.toLowerCase()).sort();
  const canonicalHeaders = names
    .map((name) => `${name}:${(headerValue(request.headers, name) ?? '').trim()}\n`)
    .join('');
  const payloadHash =
    headerValue(request.headers, 'x-acs-content-sha256') ?? sha256Hex(request.body);
  return [
    request.method.toUpperCase(),
    '/',
    canonicalQueryV3(request.rawQuery),
    canonicalHeaders,
    names.join(';'),
    payloadHash,
  ].join('\n');
}

export function computeV3Signature(
  request: SignedRequest,
  signedHeaders: string[],
  secret: string,
): string {
  const stringToSign = `ACS3-HMAC-SHA256\n${sha256Hex(canonicalRequestV3(request, signedHeaders))}`;
  return createHmac('sha256', secret).update(stringToSign).digest('hex');
}

/**
 * Why a V3 request is not acceptable before the HMAC is even compared: the gateway insists that
 * the x-acs-* headers that route and date the request are covered by the signature, and that the body
 * hash matches the body. Returns undefined when the shape is fine.
 */
export function v3ShapeProblem(request: SignedRequest, auth: V3Authorization): string | undefined {
  if (auth.algorithm !== 'ACS3-HMAC-SHA256') return `unsupported algorithm ${auth.algorithm}`;
  const signed = new Set(auth.signedHeaders.map((h) => h.toLowerCase()));
  // `host` may be left out: ack-ram-tool's credential-plugin presigns GetCallerIdentity without
  // it on purpose, so ack-ram-authenticator can replay the request to another STS endpoint.
  for (const name of Object.keys(request.headers)) {
    if (name.startsWith('x-acs-') && !signed.has(name)) return `${name} is not signed`;
  }
  const declared = headerValue(request.headers, 'x-acs-content-sha256');
  if (declared !== undefined && declared !== sha256Hex(request.body)) {
    return 'x-acs-content-sha256 does not match the body';
  }
  return undefined;
}

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

export function verifyV3(request: SignedRequest, auth: V3Authorization, secret: string): boolean {
  return safeEqual(computeV3Signature(request, auth.signedHeaders, secret), auth.signature);
}

/** V1: every parameter but Signature (query and form together), HMAC-SHA1 keyed `secret&`. */
export function computeV1Signature(
  params: Record<string, string>,
  method: string,
  secret: string,
): string {
  const canonical = Object.keys(params)
    .filter((key) => key !== 'Signature')
    .sort()
    .map((key) => `${acsEncode(key)}=${acsEncode(params[key] ?? '')}`)
    .join('&');
  const stringToSign = `${method.toUpperCase()}&${acsEncode('/')}&${acsEncode(canonical)}`;
  return createHmac('sha1', `${secret}&`).update(stringToSign).digest('base64');
}

export function verifyV1(params: Record<string, string>, method: string, secret: string): boolean {
  return safeEqual(computeV1Signature(params, method, secret), params.Signature ?? '');
}

/**
 * The small error taxonomy the controller reasons with, so it never inspects SDK error strings:
 * - Throttled: flow control; retry after `retryAfterMs` (from `x-acs-retry-after`) or backoff.
 * - Transient: 5xx, timeouts, connection errors; retry with backoff.
 * - NotFound / Conflict: expected states the caller usually turns into success or a decision.
 * - Denied: the operator's own identity lacks a permission; a human must grant it.
 * - Terminal: the request itself is wrong (bad parameter, quota); retrying cannot help.
 */
export type CloudErrorKind =
  'Throttled' | 'Transient' | 'NotFound' | 'Conflict' | 'Denied' | 'Terminal';

export class CloudError extends Error {
  override readonly name = 'CloudError';
  readonly kind: CloudErrorKind;
  readonly code: string;
  readonly action: string;
  readonly requestId: string | undefined;
  readonly statusCode: number | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(fields: {
    kind: CloudErrorKind;
    code: string;
    action: string;
    message: string;
    requestId?: string | undefined;
    statusCode?: number | undefined;
    retryAfterMs?: number | undefined;
    cause?: unknown;
  }) {
    super(fields.message, { cause: fields.cause });
    this.kind = fields.kind;
    this.code = fields.code;
    this.action = fields.action;
    this.requestId = fields.requestId;
    this.statusCode = fields.statusCode;
    this.retryAfterMs = fields.retryAfterMs;
  }

  /** "Code (request id X): message" — what Events and logs show. */
  describe(): string {
    const rid = this.requestId ? ` (request id ${this.requestId})` : '';
    return `${this.action} failed: ${this.code}${rid}: ${this.message}`;
  }

  /**
   * describe() without the request id, for status conditions: every retry has a new request id,
   * and a condition message that changes each attempt means a status write (and a watch event
   * to every client) per retry.
   */
  describeStable(): string {
    return `${this.action} failed: ${this.code}: ${this.message}`;
  }

  get retryable(): boolean {
    return this.kind === 'Throttled' || this.kind === 'Transient';
  }
}

export function isCloudError(error: unknown, kind?: CloudErrorKind): error is CloudError {
  return error instanceof CloudError && (kind === undefined || error.kind === kind);
}

/** The fields the @alicloud SDKs (openapi-core 1.x / @darabonba/typescript) put on thrown errors. */
interface SdkErrorShape {
  name?: unknown;
  code?: unknown;
  statusCode?: unknown;
  requestId?: unknown;
  retryAfter?: unknown;
  message?: unknown;
  data?: unknown;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ReadTimeout',
  'ConnectTimeout',
]);

function isThrottling(code: string, sdkName: string): boolean {
  return (
    sdkName === 'ThrottlingError' || code.includes('Throttling') || code === 'ServiceUnavailable'
  );
}

function isTransient(code: string, status: number | undefined, sdkName: string): boolean {
  if (status !== undefined) return status >= 500;
  // No HTTP status at all: the request never got an answer (network, timeout), unless the SDK
  // itself refused it as a client error (for example missing credentials).
  return NETWORK_CODES.has(code) || /timeout/i.test(code) || sdkName !== 'ClientError';
}

/**
 * Errors only a change to the binding's spec (or to RAM by a human) can fix: retrying them only
 * burns the RAM rate limit. `EntityNotExist.Policy` is a policy named in spec that does not
 * exist; `EntityNotExist.Role` stays NotFound (getRole turns it into "absent, create it").
 */
function isSpecError(code: string): boolean {
  return (
    code === 'EntityNotExist.Policy' ||
    code.startsWith('InvalidParameter') ||
    /^Invalid.*PolicyType/.test(code)
  );
}

function kindFor(code: string, status: number | undefined, sdkName: string): CloudErrorKind {
  if (isThrottling(code, sdkName)) return 'Throttled';
  if (isSpecError(code)) return 'Terminal';
  if (isTransient(code, status, sdkName)) return 'Transient';
  if (code.startsWith('EntityNotExist') || status === 404) return 'NotFound';
  if (code.startsWith('EntityAlreadyExists') || code.startsWith('DeleteConflict'))
    return 'Conflict';
  if (code === 'NoPermission' || code.startsWith('Forbidden') || status === 403) return 'Denied';
  return 'Terminal';
}

function messageOf(raw: SdkErrorShape, code: string): string {
  const data = raw.data as { Message?: unknown } | undefined;
  if (data && typeof data.Message === 'string') return data.Message;
  const text = typeof raw.message === 'string' ? raw.message : JSON.stringify(raw);
  // SDK messages read "<Code>: code: <status>, <Message> request id: <id>": keep the middle.
  const match = /^[^:]+: code: \d+, (.*?)(?: request id: \S+)?$/s.exec(text);
  return match?.[1] ?? text.replace(`${code}: `, '');
}

/** Maps anything an SDK call throws to a CloudError. Pure. */
export function classifyCloudError(action: string, error: unknown): CloudError {
  if (error instanceof CloudError) return error;
  const raw = (
    typeof error === 'object' && error !== null ? error : { message: String(error) }
  ) as SdkErrorShape;
  const sdkName = typeof raw.name === 'string' ? raw.name : '';
  const code = typeof raw.code === 'string' && raw.code ? raw.code : sdkName || 'UnknownError';
  const statusCode = typeof raw.statusCode === 'number' ? raw.statusCode : undefined;
  const retryAfter =
    typeof raw.retryAfter === 'number' && raw.retryAfter > 0 ? raw.retryAfter : undefined;
  return new CloudError({
    kind: kindFor(code, statusCode, sdkName),
    code,
    action,
    message: messageOf(raw, code),
    requestId: typeof raw.requestId === 'string' ? raw.requestId : undefined,
    statusCode,
    retryAfterMs: retryAfter,
    cause: error,
  });
}

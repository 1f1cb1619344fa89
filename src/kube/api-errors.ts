// Pure helpers over client-node's ApiException shape ({ code, body, headers }), kept free of the
// client-node import so unit tests and log formatting do not load it.

interface StatusBody {
  reason?: string;
  message?: string;
  details?: { causes?: { reason?: string }[] };
}

function statusBody(body: unknown): StatusBody | undefined {
  if (typeof body === 'string') {
    try {
      return statusBody(JSON.parse(body));
    } catch {
      return undefined;
    }
  }
  return typeof body === 'object' && body !== null ? body : undefined;
}

function httpStatus(error: unknown): number | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = error.code;
    if (typeof code === 'number') return code;
  }
  return undefined;
}

/**
 * One log line for an apiserver error: `HTTP 429 TooManyRequests: storage is (re)initializing`
 * instead of client-node's multi-line message with the body and every header.
 */
export function describeApiError(error: unknown): string {
  const code = httpStatus(error);
  if (code === undefined) return error instanceof Error ? error.message : String(error);
  const status = statusBody((error as { body?: unknown }).body);
  const reason = status?.reason ? ` ${status.reason}` : '';
  return status?.message ? `HTTP ${code}${reason}: ${status.message}` : `HTTP ${code}${reason}`;
}

/**
 * Errors a retry fixes by itself: the apiserver is starting (a new CRD's watch cache answers 429
 * "storage is (re)initializing"), overloaded (429 from priority and fairness) or restarting (503).
 */
export function isTransientApiError(error: unknown): boolean {
  const code = httpStatus(error);
  return code === 429 || code === 503;
}

/**
 * The apiserver refuses to create anything in a namespace being deleted: 403 Forbidden with the
 * cause `NamespaceTerminating`. Retrying cannot help; the namespace (and the binding) is going.
 */
export function isNamespaceTerminating(error: unknown): boolean {
  if (httpStatus(error) !== 403) return false;
  const status = statusBody((error as { body?: unknown }).body);
  return (status?.details?.causes ?? []).some((c) => c.reason === 'NamespaceTerminating');
}

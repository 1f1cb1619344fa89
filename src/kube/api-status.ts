// HTTP-status helpers over the error shape both KubeRest (KubeApiError) and client-node
// (ApiException) throw: { code, body, headers }. Free of any client import.

/** The HTTP status of an apiserver error, if any. */
export function statusCodeOf(error: unknown): number | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = error.code;
    if (typeof code === 'number') return code;
  }
  return undefined;
}

export function isNotFound(error: unknown): boolean {
  return statusCodeOf(error) === 404;
}

export function isConflict(error: unknown): boolean {
  return statusCodeOf(error) === 409;
}

/**
 * client-go retries a 429 with Retry-After by itself; client-node does not. The apiserver answers
 * 429 "storage is (re)initializing" to the first reads of a freshly created CRD's watch cache,
 * and under API priority and fairness load, so one-shot reads go through this.
 */
export async function withApiRetry<T>(call: () => Promise<T>, attempts = 10): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (statusCodeOf(error) !== 429 || attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, retryAfterMs(error)));
    }
  }
}

function retryAfterMs(error: unknown): number {
  const headers = (error as { headers?: Record<string, string> }).headers;
  const seconds = Number(headers?.['retry-after']);
  return Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds, 10) * 1000 : 1000;
}

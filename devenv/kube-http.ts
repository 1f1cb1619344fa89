import { request } from 'node:https';

export interface HttpResult {
  status: number;
  body: string;
}

/**
 * A minimal HTTPS client for the local control plane's bootstrap steps (readiness, RBAC seed,
 * discovery). The operator itself talks to Kubernetes through src/kube; this stays dependency-free
 * so the test harness does not load @kubernetes/client-node.
 */
export async function httpsRequest(
  url: string,
  options: {
    method?: string;
    caPem: string;
    token?: string;
    body?: unknown;
    timeoutMs?: number;
    /** The JWKS endpoint answers 406 to application/json: it wants application/jwk-set+json. */
    accept?: string;
  },
): Promise<HttpResult> {
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: options.method ?? 'GET',
        ca: options.caPem,
        headers: {
          accept: options.accept ?? 'application/json',
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
          ...(payload ? { 'content-type': 'application/json' } : {}),
        },
        timeout: options.timeoutMs ?? 5000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () =>
      req.destroy(new Error(`timeout after ${options.timeoutMs ?? 5000}ms: ${url}`)),
    );
    req.on('error', reject);
    req.end(payload);
  });
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  intervalMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  const detail = lastError instanceof Error ? `: ${lastError.message}` : '';
  throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}${detail}`);
}

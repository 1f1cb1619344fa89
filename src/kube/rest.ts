import type { Agent as HttpAgent } from 'node:http';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';
import { request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import { AgentPool, type TlsIdentity } from './agents.ts';
import { Http2Sessions, http2Request } from './http2-sessions.ts';

/** Every Kubernetes request ends after this long unless its caller passes a tighter signal. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/** Where and as whom to talk to the apiserver; `prepare` runs per request (tokens rotate). */
export interface KubeTransport {
  readonly server: string;
  prepare(): Promise<{ tls: TlsIdentity; headers: Record<string, string> }>;
}

/** An answer's status line and headers; `body` is read to its end or destroyed. */
export interface KubeResponse {
  status: number;
  headers: Record<string, string>;
  body: Readable;
}

/**
 * A stream the server never processed (its session closed between choice and request, or it was
 * refused after GOAWAY) is sent once more, on another session, as Go's transport retries.
 */
const UNSENT = new Set(['ERR_HTTP2_INVALID_SESSION', 'ERR_HTTP2_GOAWAY_SESSION', 'REFUSED_STREAM']);

/**
 * An apiserver answer other than 2xx, in the shape client-node's ApiException has
 * ({ code, body, headers }), so statusCodeOf, describeApiError and isNamespaceTerminating read
 * both the same way.
 */
export class KubeApiError extends Error {
  override readonly name = 'KubeApiError';
  readonly code: number;
  readonly body: unknown;
  readonly headers: Record<string, string>;

  constructor(code: number, body: unknown, headers: Record<string, string>, what: string) {
    super(`HTTP ${code} from ${what}`);
    this.code = code;
    this.body = body;
    this.headers = headers;
  }
}

export const MERGE_PATCH = 'application/merge-patch+json';
export const JSON_PATCH = 'application/json-patch+json';

export interface RequestOptions {
  query?: Record<string, string | undefined> | undefined;
  body?: unknown;
  contentType?: string;
  /** Default application/json; a metadata-only list or watch asks for PartialObjectMetadata. */
  accept?: string | undefined;
  signal?: AbortSignal | undefined;
}

/**
 * The few apiserver calls the operator makes, as plain JSON (ADR 0016: @kubernetes/client-node's
 * generated models and APIs cost ~60 MiB of RSS on import; the product uses a dozen endpoints).
 * To an `https:` apiserver every request and watch is a stream on one shared HTTP/2 session per
 * TLS identity, as client-go does (ADR 0017); `http:` servers and servers that negotiate
 * http/1.1 get a keep-alive agent per TLS identity.
 */
export class KubeRest {
  readonly #transport: KubeTransport;
  readonly #timeoutMs: number;
  readonly #sessions = new Http2Sessions();
  readonly #agents = new AgentPool();

  constructor(transport: KubeTransport, timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS) {
    this.#transport = transport;
    this.#timeoutMs = timeoutMs;
  }

  async get<T>(path: string, options: RequestOptions = {}): Promise<T> {
    return this.request<T>('GET', path, options);
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    if (options.signal) return this.#request<T>(method, path, options, options.signal);
    // A deadline cleared when the call ends: AbortSignal.timeout's timer outlives the call and
    // fires anyway (a DOMException built per call, 30 s later: ~2 s of CPU in a 5000-binding burst).
    const deadline = new AbortController();
    const timer = setTimeout(
      () =>
        deadline.abort(
          new DOMException('The operation was aborted due to timeout', 'TimeoutError'),
        ),
      this.#timeoutMs,
    );
    timer.unref(); // as AbortSignal.timeout's: a pending call's deadline does not hold the process
    try {
      return await this.#request<T>(method, path, options, deadline.signal);
    } finally {
      clearTimeout(timer);
    }
  }

  async #request<T>(
    method: string,
    path: string,
    options: RequestOptions,
    signal: AbortSignal,
  ): Promise<T> {
    const response = await this.#send(method, path, options, signal);
    const text = await readAll(response.body);
    const { status } = response;
    const body = parseJson(text);
    if (status < 200 || status >= 300)
      throw new KubeApiError(status, body ?? text, response.headers, `${method} ${path}`);
    return body as T;
  }

  /**
   * A streaming GET (a watch): resolves with the response once its headers arrived; the caller
   * reads lines from it and aborts `signal` to end it. A non-2xx answer throws KubeApiError.
   */
  async stream(
    path: string,
    query: Record<string, string | undefined>,
    signal: AbortSignal,
    accept?: string,
  ): Promise<Readable> {
    const response = await this.#send('GET', path, { query, accept }, signal);
    const { status } = response;
    if (status < 200 || status >= 300) {
      const text = await readAll(response.body);
      throw new KubeApiError(status, parseJson(text) ?? text, response.headers, `GET ${path}`);
    }
    return response.body;
  }

  async #send(
    method: string,
    path: string,
    options: RequestOptions,
    signal: AbortSignal,
  ): Promise<KubeResponse> {
    const { tls, headers } = await this.#transport.prepare();
    // A server URL with a path prefix (behind a proxy) keeps it: join, do not replace.
    const base = new URL(this.#transport.server);
    const url = new URL(base.origin);
    url.pathname = `${base.pathname.replace(/\/$/, '')}${path}`;
    for (const [key, value] of Object.entries(options.query ?? {}))
      if (value !== undefined) url.searchParams.set(key, value);
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    const allHeaders: Record<string, string | number> = {
      ...headers,
      Accept: options.accept ?? 'application/json',
      'User-Agent': 'rrsa-operator',
      ...(payload !== undefined
        ? {
            'Content-Type': options.contentType ?? 'application/json',
            'Content-Length': Buffer.byteLength(payload),
          }
        : {}),
    };
    if (url.protocol === 'https:') {
      for (let attempt = 1; ; attempt++) {
        const lease = await this.#sessions.acquire(url.origin, tls, signal);
        if (!lease) break; // the server chose http/1.1
        try {
          return await http2Request(lease, url, method, allHeaders, payload, signal);
        } catch (error) {
          if (attempt > 1 || !UNSENT.has((error as { code?: string }).code ?? '')) throw error;
        }
      }
    }
    const agent = this.#agents.agentFor(this.#transport.server, tls);
    return http1Request(agent, url, method, allHeaders, payload, signal);
  }
}

function http1Request(
  agent: HttpAgent | HttpsAgent,
  url: URL,
  method: string,
  headers: Record<string, string | number>,
  payload: string | undefined,
  signal: AbortSignal,
): Promise<KubeResponse> {
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<KubeResponse>((resolve, reject) => {
    const req = send(url, { method, agent, signal, headers }, (response) =>
      resolve({ status: response.statusCode ?? 0, headers: flatHeaders(response), body: response }),
    );
    req.on('error', reject);
    req.end(payload);
  });
}

async function readAll(response: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string): unknown {
  if (text.length === 0) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function flatHeaders(response: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(response.headers))
    if (value !== undefined) out[key] = Array.isArray(value) ? value.join(', ') : value;
  return out;
}

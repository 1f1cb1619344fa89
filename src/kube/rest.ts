import type { Agent as HttpAgent } from 'node:http';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';
import { request as httpsRequest } from 'node:https';

/** Every Kubernetes request ends after this long unless its caller passes a tighter signal. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/** Where and as whom to talk to the apiserver; `prepare` runs per request (tokens rotate). */
export interface KubeTransport {
  readonly server: string;
  prepare(): Promise<{ agent: HttpAgent | HttpsAgent; headers: Record<string, string> }>;
}

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
 * The few apiserver calls the operator makes, as plain JSON over node:http(s) with one
 * keep-alive agent per TLS identity (ADR 0016: @kubernetes/client-node's generated models and
 * APIs cost ~60 MiB of RSS on import; the product uses a dozen endpoints).
 */
export class KubeRest {
  readonly #transport: KubeTransport;
  readonly #timeoutMs: number;

  constructor(transport: KubeTransport, timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS) {
    this.#transport = transport;
    this.#timeoutMs = timeoutMs;
  }

  async get<T>(path: string, options: RequestOptions = {}): Promise<T> {
    return this.request<T>('GET', path, options);
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const signal = options.signal ?? AbortSignal.timeout(this.#timeoutMs);
    const response = await this.#send(method, path, options, signal);
    const text = await readAll(response);
    const status = response.statusCode ?? 0;
    const body = parseJson(text);
    if (status < 200 || status >= 300)
      throw new KubeApiError(status, body ?? text, flatHeaders(response), `${method} ${path}`);
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
  ): Promise<IncomingMessage> {
    const response = await this.#send('GET', path, { query, accept }, signal);
    const status = response.statusCode ?? 0;
    if (status < 200 || status >= 300) {
      const text = await readAll(response);
      throw new KubeApiError(status, parseJson(text) ?? text, flatHeaders(response), `GET ${path}`);
    }
    return response;
  }

  async #send(
    method: string,
    path: string,
    options: RequestOptions,
    signal: AbortSignal,
  ): Promise<IncomingMessage> {
    const { agent, headers } = await this.#transport.prepare();
    // A server URL with a path prefix (behind a proxy) keeps it: join, do not replace.
    const base = new URL(this.#transport.server);
    const url = new URL(base.origin);
    url.pathname = `${base.pathname.replace(/\/$/, '')}${path}`;
    for (const [key, value] of Object.entries(options.query ?? {}))
      if (value !== undefined) url.searchParams.set(key, value);
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<IncomingMessage>((resolve, reject) => {
      const req = send(
        url,
        {
          method,
          agent,
          signal,
          headers: {
            ...headers,
            Accept: options.accept ?? 'application/json',
            'User-Agent': 'rrsa-operator',
            ...(payload !== undefined
              ? {
                  'Content-Type': options.contentType ?? 'application/json',
                  'Content-Length': Buffer.byteLength(payload),
                }
              : {}),
          },
        },
        resolve,
      );
      req.on('error', reject);
      req.end(payload);
    });
  }
}

async function readAll(response: IncomingMessage): Promise<string> {
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

import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SecureVersion } from 'node:tls';
import type { Registry } from 'prom-client';
import {
  admit,
  BadAdmissionRequest,
  parseAdmissionReview,
  type AdmissionOptions,
} from './admission.ts';
import {
  certificateNotAfter,
  type CertificateSource,
  type ServingCertificate,
} from './certs/source.ts';
import { AdmissionGate } from './admission-gate.ts';
import { ReadThrottle } from './read-throttle.ts';
import { createWebhookMetrics, type AdmissionOutcome, type WebhookMetrics } from './metrics.ts';
import type { EventSink, IdentityLookup } from './ports.ts';

export const MUTATE_PATH = '/mutate-v1-pod';
export const DEFAULT_MAX_CONCURRENT_ADMISSIONS = 4;

export interface WebhookServerOptions extends AdmissionOptions {
  /** Default 0.0.0.0; tests and the benchmark use 127.0.0.1. */
  host?: string;
  /** 0 picks a free port (see `port` on the result). */
  port: number;
  /**
   * SO_REUSEPORT: several processes serve one port and the kernel spreads connections over
   * them. Only the webhook benchmark's `--processes` uses it (docs/adr/0018).
   */
  reusePort?: boolean;
  /** Default TLSv1.2; TLSv1.3 for clusters whose apiserver supports it (all current ones do). */
  minTlsVersion?: SecureVersion;
  /**
   * Admissions in progress at once (body read, decided, answered); more wait their turn unread
   * (AdmissionGate), and while all are taken idle connections are not read (ReadThrottle).
   * Default 4: on one thread 4 already overlap network reads with decisions (the same
   * admissions/s as 8 in bench:webhook), and each holds memory (docs/adr/0022).
   */
  maxConcurrentAdmissions?: number;
  /** Default true: see ReadThrottle. The benchmark's `--no-park` turns it off to compare. */
  parkIdleConnections?: boolean;
  /** AdmissionReview bodies above this are refused with 413. Default 4 MiB (etcd's object limit is 1.5 MiB; a review holds the object once for CREATE). */
  maxBodyBytes?: number;
  certificates: CertificateSource;
  lookup: IdentityLookup;
  registry: Registry;
  events?: EventSink;
  log?: (
    level: 'info' | 'warn' | 'error',
    message: string,
    fields?: Record<string, unknown>,
  ) => void;
}

export interface WebhookServer {
  readonly port: number;
  /** https://host:port of the mutate endpoint. */
  readonly url: string;
  readonly metrics: WebhookMetrics;
  isReady(): boolean;
  close(): Promise<void>;
}

class HttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/**
 * The admission server: POST /mutate-v1-pod (admission.k8s.io/v1 AdmissionReview), GET /healthz
 * (the process serves), GET /readyz (a certificate is loaded and the caches have synced). It
 * starts once the certificate source has a certificate and swaps the TLS context on every
 * renewal. No request can crash it: bad bodies get a 4xx with a message the apiserver logs.
 */
export async function startWebhookServer(options: WebhookServerOptions): Promise<WebhookServer> {
  const first = options.certificates.current();
  if (!first) throw new Error('the certificate source has no certificate yet');
  const minVersion = options.minTlsVersion ?? 'TLSv1.2';
  const maxBodyBytes = options.maxBodyBytes ?? 4 * 1024 * 1024;
  const log = options.log ?? (() => undefined);
  // The throttle parks idle connections while the gate is full; the gate wakes them as it empties.
  const throttle =
    options.parkIdleConnections === false
      ? undefined
      : new ReadThrottle({ freeSlots: () => gate.freeSlots() });
  const gate = new AdmissionGate(
    options.maxConcurrentAdmissions ?? DEFAULT_MAX_CONCURRENT_ADMISSIONS,
    () => throttle?.released(),
  );
  const metrics = createWebhookMetrics(options.registry, {
    get active() {
      return gate.active;
    },
    get waiting() {
      return gate.waiting;
    },
    get parked() {
      return throttle?.parked ?? 0;
    },
  });

  const tlsOptions = (
    cert: ServingCertificate,
  ): { cert: string; key: string; minVersion: SecureVersion } => ({
    cert: cert.certPem,
    key: cert.keyPem,
    minVersion,
  });
  const server: Server = createServer(tlsOptions(first));
  metrics.certificateExpiry.set(certificateNotAfter(first.certPem).getTime() / 1000);
  const unsubscribe = options.certificates.subscribe((cert) => {
    try {
      server.setSecureContext(tlsOptions(cert));
      metrics.certificateExpiry.set(certificateNotAfter(cert.certPem).getTime() / 1000);
      log('info', 'serving certificate reloaded', { notAfter: certificateNotAfter(cert.certPem) });
    } catch (error) {
      log('error', 'new serving certificate rejected; keeping the previous one', {
        error: String(error),
      });
    }
  });
  // The apiserver keeps connections alive (Go's idle timeout is 90 s); match it so a burst of
  // pods does not pay a TLS handshake each.
  server.keepAliveTimeout = 90_000;
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;

  const isReady = (): boolean =>
    options.certificates.current() !== undefined && options.lookup.hasSynced();

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((error: unknown) => {
      log('error', 'admission handler failed', { error: String(error) });
      if (!res.headersSent) send(res, 500, { error: 'internal error' });
      else res.destroy();
    });
  });
  server.on('tlsClientError', (error) =>
    log('warn', 'TLS handshake failed', { error: error.message }),
  );

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') return send(res, 200, 'ok');
    if (path === '/readyz') return isReady() ? send(res, 200, 'ok') : send(res, 503, 'not ready');
    if (path !== MUTATE_PATH) return send(res, 404, { error: `no route ${path}` });
    const started = process.hrtime.bigint();
    let outcome: AdmissionOutcome = 'BadRequest';
    const leave = await gate.enter();
    // The slot is held until the answer is handed to the socket (or the connection is gone), so
    // response buffers count too.
    // Once answered, a keep-alive connection is idle between requests: after the slot is given
    // back, park it if the gate is still full.
    res.once('finish', () => {
      leave();
      throttle?.idle(req.socket);
    });
    res.once('close', leave);
    try {
      if (req.method !== 'POST') throw new HttpError(405, 'use POST');
      const type = req.headers['content-type'] ?? '';
      if (!type.startsWith('application/json')) {
        throw new HttpError(415, `content-type ${JSON.stringify(type)} is not application/json`);
      }
      const body = await readBody(req, maxBodyBytes);
      const review = parseAdmissionReview(body);
      const result = await admit(
        review,
        {
          lookup: options.lookup,
          events: options.events,
          onMissingServiceAccount: () => metrics.missingServiceAccounts.inc(),
        },
        options,
      );
      outcome = result.outcome;
      send(res, 200, result.review);
    } catch (error) {
      if (error instanceof HttpError) send(res, error.status, { error: error.message });
      else if (error instanceof BadAdmissionRequest) send(res, 400, { error: error.message });
      else throw error;
    } finally {
      metrics.admissions.inc({ outcome });
      metrics.latency.observe({ outcome }, Number(process.hrtime.bigint() - started) / 1e9);
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    const listen = {
      port: options.port,
      host: options.host ?? '0.0.0.0',
      ...(options.reusePort ? { reusePort: true } : {}),
    };
    server.listen(listen, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = options.host ?? '0.0.0.0';
  return {
    port,
    url: `https://${host.includes(':') ? `[${host}]` : host}:${port}${MUTATE_PATH}`,
    metrics,
    isReady,
    close: async () => {
      unsubscribe();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
    },
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > limit) {
    req.resume();
    throw new HttpError(413, `body of ${declared} bytes exceeds the ${limit}-byte limit`);
  }
  // Listeners, not for-await: leaving a for-await loop early destroys the socket, and the
  // client would see a reset instead of the 413 that explains it.
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        chunks.length = 0;
        reject(new HttpError(413, `body exceeds the ${limit}-byte limit`));
      } else {
        chunks.push(chunk);
      }
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

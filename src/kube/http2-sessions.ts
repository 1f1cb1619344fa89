import {
  connect as http2Connect,
  constants,
  type ClientHttp2Session,
  type IncomingHttpHeaders,
} from 'node:http2';
import { isIP } from 'node:net';
import { PassThrough } from 'node:stream';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { identityKey, type TlsIdentity } from './agents.ts';
import {
  ASSUMED_MAX_STREAMS,
  SessionHealth,
  chooseSession,
  idleToClose,
  type SessionView,
} from './http2-policy.ts';
import type { KubeResponse } from './rest.ts';

/** Go's http2 transport: a 4 MiB window per stream, so a 10k-object LIST is not throttled. */
const STREAM_WINDOW = 4 << 20;
const CONNECTION_WINDOW = 16 << 20;
/** A TCP connect + TLS handshake that takes longer is abandoned (Go: TLSHandshakeTimeout 10 s). */
const DIAL_TIMEOUT_MS = 15_000;
const HEALTH_TICK_MS = 5_000;

/** One session (or its connection attempt) and what the choice reads of it. */
interface Entry {
  ready: Promise<ClientHttp2Session | 'http/1.1'>;
  session?: ClientHttp2Session;
  active: number;
  usable: boolean;
  health?: SessionHealth;
}

/** A reserved stream slot on a session; `release` once the stream has closed. */
export interface Lease {
  session: ClientHttp2Session;
  sawRead(): void;
  release(): void;
}

/**
 * HTTP/2 sessions to `https:` apiservers, one per (server, TLS identity) in the steady state, as
 * client-go keeps one connection: every request and watch is a stream on it (ADR 0017). The TLS
 * handshake offers h2 and http/1.1; a server (or TLS-terminating proxy) that picks http/1.1 is
 * remembered and `acquire` returns undefined for it, so the caller uses its keep-alive agent. A
 * session that received GOAWAY, failed or closed takes no new streams and is forgotten; its
 * unfinished streams end with an error (the list-watch then relists). A session silent for 30 s
 * is PINGed and closed when the PING is not answered in 15 s. Session sockets are unref'd while
 * no stream is in flight, as idle keep-alive sockets are.
 */
export class Http2Sessions {
  readonly #entries = new Map<string, Entry[]>();
  readonly #http1 = new Set<string>();

  /** A stream slot on a session for `server`, or undefined when the server speaks http/1.1. */
  async acquire(server: string, tls: TlsIdentity, signal: AbortSignal): Promise<Lease | undefined> {
    const key = identityKey(server, tls);
    if (this.#http1.has(key)) return undefined;
    const entries = this.#entriesFor(key);
    const choice = chooseSession(entries.map(view));
    const entry = choice === 'open' ? this.#open(key, server, tls) : entries[choice]!;
    this.#reserve(entry);
    let session: ClientHttp2Session | 'http/1.1';
    try {
      session = await untilAborted(entry.ready, signal);
    } catch (error) {
      this.#release(key, entry);
      throw error;
    }
    if (session === 'http/1.1') {
      this.#release(key, entry);
      return undefined;
    }
    let released = false;
    return {
      session,
      sawRead: () => entry.health?.sawRead(),
      release: () => {
        if (released) return;
        released = true;
        this.#release(key, entry);
      },
    };
  }

  #entriesFor(key: string): Entry[] {
    let entries = this.#entries.get(key);
    if (!entries) {
      // A rotated client certificate is a new identity; after a few rotations, the old
      // identities' sessions close once their streams are done.
      if (this.#entries.size >= 4) {
        for (const old of this.#entries.values())
          for (const e of old) {
            e.usable = false; // one still connecting is closed when it connects
            e.session?.close();
          }
        this.#entries.clear();
      }
      entries = [];
      this.#entries.set(key, entries);
    }
    return entries;
  }

  #open(key: string, server: string, tls: TlsIdentity): Entry {
    const entry: Entry = { ready: undefined as never, active: 0, usable: true };
    this.#entriesFor(key).push(entry);
    entry.ready = dial(server, tls).then(
      (session) => {
        if (session === 'http/1.1') {
          this.#http1.add(key);
          this.#forget(key, entry);
        } else {
          this.#attach(key, entry, session);
        }
        return session;
      },
      (error: unknown) => {
        this.#forget(key, entry);
        throw error;
      },
    );
    // Every acquirer awaits `ready` and sees the failure; this keeps it from being unhandled.
    entry.ready.catch(() => undefined);
    return entry;
  }

  #attach(key: string, entry: Entry, session: ClientHttp2Session): void {
    entry.session = session;
    if (!entry.usable) {
      session.close(); // every request that waited for it gave up meanwhile
      return;
    }
    const health = new SessionHealth(
      (onAck) => pingSession(session, onAck),
      (error) => {
        if (!session.destroyed) session.destroy(error);
      },
    );
    entry.health = health;
    const timer = setInterval(() => health.tick(), HEALTH_TICK_MS).unref();
    const drop = (): void => {
      this.#forget(key, entry);
      clearInterval(timer);
    };
    session.on('goaway', () => this.#forget(key, entry)); // in-flight streams may finish
    session.on('error', drop); // its streams fail with it
    session.on('close', drop);
    session.on('ping', () => health.sawRead());
    if (entry.active === 0) session.unref();
  }

  #reserve(entry: Entry): void {
    entry.active++;
    if (entry.active === 1) entry.session?.ref();
  }

  #release(key: string, entry: Entry): void {
    entry.active--;
    if (entry.active > 0) return;
    entry.session?.unref();
    const entries = this.#entries.get(key) ?? [];
    for (const i of idleToClose(entries.map(view)).reverse()) {
      const [surplus] = entries.splice(i, 1);
      surplus!.usable = false;
      surplus!.session?.close();
    }
  }

  #forget(key: string, entry: Entry): void {
    entry.usable = false;
    const entries = this.#entries.get(key);
    const i = entries?.indexOf(entry) ?? -1;
    if (i >= 0) entries!.splice(i, 1);
  }
}

function view(entry: Entry): SessionView {
  const remote = entry.session?.remoteSettings?.maxConcurrentStreams;
  return {
    usable: entry.usable && !(entry.session?.closed ?? false),
    active: entry.active,
    maxStreams: remote ?? ASSUMED_MAX_STREAMS,
  };
}

/** TLS with ALPN h2 + http/1.1; an h2 session over it, or 'http/1.1' when the server chose so. */
async function dial(server: string, tls: TlsIdentity): Promise<ClientHttp2Session | 'http/1.1'> {
  const url = new URL(server);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const socket = tlsConnect({
    host,
    port: Number(url.port || 443),
    ALPNProtocols: ['h2', 'http/1.1'],
    // As node:https does: SNI is a host name, never an IP address.
    servername: tls.servername ?? (isIP(host) ? undefined : host),
    ...(tls.ca ? { ca: tls.ca } : {}),
    ...(tls.cert ? { cert: tls.cert } : {}),
    ...(tls.key ? { key: tls.key } : {}),
    ...(tls.rejectUnauthorized !== undefined ? { rejectUnauthorized: tls.rejectUnauthorized } : {}),
  });
  await handshake(socket);
  if (socket.alpnProtocol !== 'h2') {
    socket.destroy(); // one spare handshake per identity, then the agent path for good
    return 'http/1.1';
  }
  socket.setKeepAlive(true, 30_000);
  // Frames are small and written one by one; Nagle would hold each behind the previous ACK.
  socket.setNoDelay(true);
  const session = http2Connect(url.origin, {
    createConnection: () => socket,
    settings: { initialWindowSize: STREAM_WINDOW, enablePush: false },
    maxSessionMemory: 64, // MiB; nghttp2's 10 MiB default is below a few open 4 MiB windows
  });
  session.setLocalWindowSize(CONNECTION_WINDOW);
  // Until the caller attaches its own; an 'error' without a listener would crash the process.
  session.on('error', () => undefined);
  return session;
}

function handshake(socket: TLSSocket): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (error: Error): void => {
      clearTimeout(timer);
      reject(error);
    };
    const timer = setTimeout(() => {
      socket.destroy();
      onError(new Error(`TLS connection to the apiserver not made within ${DIAL_TIMEOUT_MS} ms`));
    }, DIAL_TIMEOUT_MS);
    socket.once('error', onError);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      socket.off('error', onError);
      resolve();
    });
  });
}

/**
 * One request as a stream on a leased session. The response body ends only when the stream
 * closed with NO_ERROR: Node ends a stream's readable side cleanly when its session is lost, so
 * a cut LIST or watch would otherwise look complete. Aborting `signal` resets the stream
 * (RST_STREAM CANCEL) and fails the body with the signal's reason.
 */
export function http2Request(
  lease: Lease,
  url: URL,
  method: string,
  headers: Record<string, string | number>,
  payload: string | undefined,
  signal: AbortSignal,
): Promise<KubeResponse> {
  let stream;
  try {
    stream = lease.session.request(
      { ...headers, ':method': method, ':path': `${url.pathname}${url.search}` },
      { signal, endStream: payload === undefined },
    );
  } catch (error) {
    lease.release();
    throw error;
  }
  const body = new PassThrough();
  stream.pipe(body, { end: false });
  stream.on('data', () => lease.sawRead());
  let failure: Error | undefined;
  stream.on('error', (error: Error) => {
    failure = error;
  });
  // The consumer stopped reading (a watch stopped, a readline loop left early): free the stream.
  body.on('close', () => {
    if (!stream.closed) stream.close(constants.NGHTTP2_CANCEL);
  });
  return new Promise<KubeResponse>((resolve, reject) => {
    let responded = false;
    stream.once('response', (h: IncomingHttpHeaders) => {
      responded = true;
      lease.sawRead();
      resolve({ status: Number(h[':status'] ?? 0), headers: plainHeaders(h), body });
    });
    stream.once('close', () => {
      lease.release();
      const complete = stream.rstCode === constants.NGHTTP2_NO_ERROR && stream.readableEnded;
      const refused = !responded && stream.rstCode === constants.NGHTTP2_REFUSED_STREAM;
      const error = complete
        ? undefined
        : signal.aborted
          ? (signal.reason as Error)
          : refused // the server did not process it (GOAWAY): safe to send again
            ? Object.assign(new Error(`apiserver refused ${method} ${url.pathname}`), {
                code: 'REFUSED_STREAM',
              })
            : (failure ??
              new Error(
                `apiserver HTTP/2 stream ${method} ${url.pathname} reset (${stream.rstCode})`,
              ));
      if (!responded) {
        // Nobody holds the body yet: destroying it with the error would be an 'error' event
        // without a listener, an uncaught exception (a Lease call cut by its renew deadline).
        body.destroy();
        reject(error ?? new Error(`apiserver closed ${url.pathname} unanswered`));
        return;
      }
      if (error === undefined) body.end();
      else body.destroy(error);
    });
    if (payload !== undefined) stream.end(payload);
  });
}

function plainHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(headers))
    if (!key.startsWith(':') && value !== undefined)
      out[key] = Array.isArray(value) ? value.join(', ') : value;
  return out;
}

/** `promise`, or the signal's reason once it aborts (the shared work itself goes on). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * A health PING that never throws: a session destroyed a moment ago still has its health timer
 * until its 'close' event (emitted on a later tick), and `ping()` on it throws
 * ERR_HTTP2_INVALID_SESSION from the timer, an uncaught exception (seen in CI). Returns whether
 * the PING went out.
 */
export function pingSession(session: ClientHttp2Session, onAck: () => void): boolean {
  if (session.destroyed || session.closed) return false;
  try {
    return session.ping((error) => (error ? undefined : onAck()));
  } catch {
    return false; // ending meanwhile: its 'close' clears the timer
  }
}

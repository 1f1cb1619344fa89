/**
 * The decisions behind the HTTP/2 sessions to the apiserver (http2-sessions.ts, ADR 0017), apart
 * from I/O so they are tested with plain values and a fake clock.
 */

/** client-go's http2 ReadIdleTimeout: a session that read nothing this long is sent a PING... */
export const READ_IDLE_MS = 30_000;
/** ...and is closed when the PING is not answered within this (client-go's PingTimeout). */
export const PING_TIMEOUT_MS = 15_000;
/** Sessions per (server, TLS identity) when every one is at the server's stream limit. */
export const MAX_SESSIONS = 4;
/** Until the server's SETTINGS arrive, assume the RFC 9113 recommended minimum. */
export const ASSUMED_MAX_STREAMS = 100;

/** What the choice reads of one session (connected or still connecting). */
export interface SessionView {
  /** False after GOAWAY, an error or close: no new stream may go to it. */
  usable: boolean;
  /** Streams in flight or reserved (a request that awaits the session counts). */
  active: number;
  /** The server's SETTINGS_MAX_CONCURRENT_STREAMS, or ASSUMED_MAX_STREAMS before it is known. */
  maxStreams: number;
}

/**
 * Which session a new stream goes to: the first usable one with a free stream slot, so traffic
 * packs onto one connection; when all are full (watches hold their slot for minutes), a new
 * session, up to MAX_SESSIONS; beyond that the least loaded one, where nghttp2 queues the stream
 * until a slot frees (a queued request keeps its own deadline).
 */
export function chooseSession(
  sessions: readonly SessionView[],
  maxSessions = MAX_SESSIONS,
): number | 'open' {
  let usable = 0;
  let leastLoaded = -1;
  for (const [i, s] of sessions.entries()) {
    if (!s.usable) continue;
    if (s.active < s.maxStreams) return i;
    usable++;
    if (leastLoaded < 0 || s.active < sessions[leastLoaded]!.active) leastLoaded = i;
  }
  return usable < maxSessions || leastLoaded < 0 ? 'open' : leastLoaded;
}

/**
 * Idle sessions to close once a burst is over: every idle usable session but one is surplus when
 * another usable session exists (the steady state is one connection; an idle lone session stays
 * for the next request, as the keep-alive agent kept an idle socket).
 */
export function idleToClose(sessions: readonly SessionView[]): number[] {
  const usable = [...sessions.entries()].filter(([, s]) => s.usable);
  const busy = usable.filter(([, s]) => s.active > 0).length;
  const idle = usable.filter(([, s]) => s.active === 0).map(([i]) => i);
  return busy > 0 ? idle : idle.slice(1);
}

export type HealthAction = 'none' | 'ping' | 'close';

/** client-go's health check: PING a session silent for READ_IDLE_MS, close it if unanswered. */
export function healthAction(
  lastReadAt: number,
  pingSentAt: number | undefined,
  now: number,
): HealthAction {
  if (pingSentAt !== undefined) return now - pingSentAt >= PING_TIMEOUT_MS ? 'close' : 'none';
  return now - lastReadAt >= READ_IDLE_MS ? 'ping' : 'none';
}

/**
 * The health state of one session. The owner calls `sawRead()` on every frame it sees arrive
 * (response headers, data, a PING from the server) and `tick()` every few seconds; `ping` sends
 * a PING and calls its argument on the ACK, `kill` closes the session.
 */
export class SessionHealth {
  #lastReadAt: number;
  #pingSentAt: number | undefined;
  #killed = false;
  readonly #now: () => number;
  readonly #ping: (onAck: () => void) => void;
  readonly #kill: (error: Error) => void;

  constructor(
    ping: (onAck: () => void) => void,
    kill: (error: Error) => void,
    now: () => number = Date.now,
  ) {
    this.#ping = ping;
    this.#kill = kill;
    this.#now = now;
    this.#lastReadAt = now();
  }

  sawRead(): void {
    this.#lastReadAt = this.#now();
  }

  tick(): void {
    if (this.#killed) return;
    const action = healthAction(this.#lastReadAt, this.#pingSentAt, this.#now());
    if (action === 'ping') {
      const sentAt = this.#now();
      this.#pingSentAt = sentAt;
      this.#ping(() => {
        if (this.#pingSentAt !== sentAt) return;
        this.#pingSentAt = undefined;
        this.sawRead();
      });
    } else if (action === 'close') {
      this.#killed = true;
      this.#kill(new Error(`apiserver did not answer an HTTP/2 PING within ${PING_TIMEOUT_MS} ms`));
    }
  }
}

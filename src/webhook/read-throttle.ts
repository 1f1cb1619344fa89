/** The part of a connection the throttle drives: stop and restart reading from it. */
export interface PausableConnection {
  pause(): unknown;
  resume(): unknown;
  readonly destroyed: boolean;
  once(event: 'close', listener: () => void): unknown;
}

/** Admission slots: how many are free right now (0 while admissions wait their turn). */
export interface SlotCount {
  freeSlots(): number;
}

export interface ReadThrottleOptions {
  /** Runs `run` on the next turn of the event loop (default setImmediate). */
  defer?: (run: () => void) => void;
  /** Milliseconds clock (default performance.now). */
  now?: () => number;
  /** Longest a connection stays parked while admissions keep finishing (default 1000). */
  maxParkedMs?: number;
}

/**
 * Keeps the next request of a keep-alive connection in the kernel while every admission slot is
 * taken. The AdmissionGate alone bounds admissions in progress, but a request that waits at the
 * gate has already been read, decrypted and parsed into a request object, and its chunks live
 * until the next full GC: at 64 connections that waiting is what doubled the webhook's RSS
 * (bench:webhook, docs/adr/0022). Parked here, a connection costs its socket and TLS state only;
 * its client sees the same wait as TCP backpressure.
 *
 * A connection is parked when it goes idle (its response finished) while no slot is free. Freed slots wake parked connections oldest first, one per slot; a woken connection with
 * nothing to send holds no slot, so the pump runs again on the next turn of the event loop (after
 * the woken ones had their chance to deliver a request) until the slots are taken or nobody is
 * parked. Nothing is parked while a slot is free, so no request waits behind an idle slot.
 *
 * Under overload the apiserver opens new connections, whose first request arrives with the TLS
 * handshake and so waits at the gate, ahead of the parked ones. So that a parked connection is
 * never starved by those, one parked longer than `maxParkedMs` is woken at the next release
 * whether or not a slot is free: its request then joins the gate's first-come-first-served line.
 */
export class ReadThrottle {
  readonly #slots: SlotCount;
  readonly #defer: (run: () => void) => void;
  readonly #now: () => number;
  readonly #maxParkedMs: number;
  /** Parked connections and when they were parked, oldest first (insertion order). */
  readonly #parked = new Map<PausableConnection, number>();
  /** Connections whose 'close' already unparks them: one listener per connection, not per park. */
  readonly #watched = new WeakSet<PausableConnection>();
  #pumpScheduled = false;

  constructor(slots: SlotCount, options: ReadThrottleOptions = {}) {
    this.#slots = slots;
    this.#defer = options.defer ?? ((run) => setImmediate(run));
    this.#now = options.now ?? (() => performance.now());
    this.#maxParkedMs = options.maxParkedMs ?? 1000;
  }

  /** The connection has no request in progress: park it unless a slot is free. */
  idle(connection: PausableConnection): void {
    if (connection.destroyed || this.#parked.has(connection)) return;
    if (this.#slots.freeSlots() > 0) return;
    connection.pause();
    this.#parked.set(connection, this.#now());
    if (!this.#watched.has(connection)) {
      this.#watched.add(connection);
      connection.once('close', () => this.#parked.delete(connection));
    }
  }

  /** A slot was given back: wake parked connections once the event loop turns. */
  released(): void {
    if (this.#parked.size > 0) this.#schedulePump();
  }

  get parked(): number {
    return this.#parked.size;
  }

  #schedulePump(): void {
    if (this.#pumpScheduled) return;
    this.#pumpScheduled = true;
    this.#defer(() => {
      this.#pumpScheduled = false;
      this.#pump();
    });
  }

  #pump(): void {
    let free = this.#slots.freeSlots();
    const overdue = this.#now() - this.#maxParkedMs;
    let woke = 0;
    for (const [connection, parkedAt] of this.#parked) {
      if (free <= 0 && parkedAt > overdue) break;
      this.#parked.delete(connection);
      if (connection.destroyed) continue;
      connection.resume();
      free--;
      woke++;
    }
    // Check again once the woken connections could have delivered: any that had nothing to send
    // left their slot free, and the next parked connection may be waiting for it.
    if (woke > 0 && this.#parked.size > 0) this.#schedulePump();
  }
}

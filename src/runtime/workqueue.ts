import { systemClock, type Clock } from './clock.ts';

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 50, maxMs: 5 * 60_000 };

/**
 * A work queue with client-go's guarantees: a key is never processed by two workers at once; a
 * key added while it is processed is queued again once (after `done`); adding a queued key is a
 * no-op (dedupe). `addRateLimited` waits an exponential per-key backoff; `forget` resets it.
 */
export class WorkQueue {
  readonly #clock: Clock;
  readonly #backoff: BackoffOptions;
  readonly #queue: string[] = [];
  readonly #dirty = new Set<string>();
  readonly #processing = new Set<string>();
  readonly #failures = new Map<string, number>();
  readonly #delayed = new Map<string, { at: number; cancel(): void }>();
  readonly #waiters: ((key: string | undefined) => void)[] = [];
  #shuttingDown = false;
  #drained: (() => void) | undefined;
  onAdd: ((key: string) => void) | undefined;

  constructor(options: { clock?: Clock; backoff?: BackoffOptions } = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#backoff = options.backoff ?? DEFAULT_BACKOFF;
  }

  add(key: string): void {
    if (this.#shuttingDown || this.#dirty.has(key)) return;
    this.#dirty.add(key);
    this.onAdd?.(key);
    if (this.#processing.has(key)) return;
    const waiter = this.#waiters.shift();
    if (waiter) {
      this.#dirty.delete(key);
      this.#processing.add(key);
      waiter(key);
    } else {
      this.#queue.push(key);
    }
  }

  /** Adds the key after `ms`; an earlier pending delay for the same key wins. */
  addAfter(key: string, ms: number): void {
    if (this.#shuttingDown) return;
    if (ms <= 0) return this.add(key);
    const at = this.#clock.now() + ms;
    const pending = this.#delayed.get(key);
    if (pending && pending.at <= at) return;
    pending?.cancel();
    const timer = this.#clock.setTimeout(() => {
      this.#delayed.delete(key);
      this.add(key);
    }, ms);
    this.#delayed.set(key, { at, cancel: () => timer.cancel() });
  }

  /** Exponential per-key backoff; returns the delay used. */
  addRateLimited(key: string, minimumMs = 0): number {
    const failures = this.#failures.get(key) ?? 0;
    this.#failures.set(key, failures + 1);
    const delay = Math.max(
      minimumMs,
      Math.min(this.#backoff.baseMs * 2 ** Math.min(failures, 30), this.#backoff.maxMs),
    );
    this.addAfter(key, delay);
    return delay;
  }

  forget(key: string): void {
    this.#failures.delete(key);
  }

  retries(key: string): number {
    return this.#failures.get(key) ?? 0;
  }

  /** The next key, or undefined once the queue is shut down. */
  async get(): Promise<string | undefined> {
    const key = this.#queue.shift();
    if (key !== undefined) {
      this.#dirty.delete(key);
      this.#processing.add(key);
      return key;
    }
    if (this.#shuttingDown) return undefined;
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  done(key: string): void {
    this.#processing.delete(key);
    if (this.#dirty.has(key)) {
      this.#dirty.delete(key);
      this.add(key);
    }
    if (this.#shuttingDown && this.#processing.size === 0) this.#drained?.();
  }

  len(): number {
    return this.#queue.length;
  }

  /** Stops handing out keys; resolves once in-flight keys are done. Queued keys are dropped. */
  async shutDownWithDrain(): Promise<void> {
    this.#shuttingDown = true;
    for (const pending of this.#delayed.values()) pending.cancel();
    this.#delayed.clear();
    for (const waiter of this.#waiters.splice(0)) waiter(undefined);
    this.#queue.length = 0;
    if (this.#processing.size === 0) return;
    await new Promise<void>((resolve) => (this.#drained = resolve));
  }

  isShuttingDown(): boolean {
    return this.#shuttingDown;
  }
}

import { systemClock, type Clock } from './clock.ts';

/** Thrown to callers still waiting for a token when the process shuts down. */
export class LimiterClosedError extends Error {
  override readonly name = 'LimiterClosedError';
  constructor() {
    super('rate limiter closed: shutting down');
  }
}

/**
 * A token bucket shared by every RAM call (RAM limits per account, not per binding). Waiters are
 * served first come, first served. `pause` stops everyone for a while: when RAM answers with
 * throttling and `x-acs-retry-after`, hammering it from other workers would only extend the
 * throttling.
 */
export class TokenBucket {
  readonly #clock: Clock;
  readonly #qps: number;
  readonly #burst: number;
  #tokens: number;
  #last: number;
  #pausedUntil = 0;
  readonly #waiters: { resolve: () => void; reject: (error: Error) => void }[] = [];
  #timer: { cancel(): void } | undefined;
  #closed = false;

  constructor(options: { qps: number; burst: number; clock?: Clock }) {
    this.#clock = options.clock ?? systemClock;
    this.#qps = options.qps;
    this.#burst = Math.max(1, options.burst);
    this.#tokens = this.#burst;
    this.#last = this.#clock.now();
  }

  tryAcquire(): boolean {
    this.#refill();
    if (this.#waiters.length > 0 || this.#clock.now() < this.#pausedUntil || this.#tokens < 1)
      return false;
    this.#tokens -= 1;
    return true;
  }

  async acquire(): Promise<void> {
    if (this.#closed) throw new LimiterClosedError();
    if (this.tryAcquire()) return;
    await new Promise<void>((resolve, reject) => {
      this.#waiters.push({ resolve, reject });
      this.#schedule();
    });
  }

  /**
   * Fails every pending and future acquire. On shutdown a reconcile waiting for a token (minutes
   * at a low --ram-qps) must not hold up the drain; reconciles are idempotent, so stopping one
   * between two RAM calls is as safe as a crash there.
   */
  close(): void {
    this.#closed = true;
    this.#timer?.cancel();
    this.#timer = undefined;
    for (const waiter of this.#waiters.splice(0)) waiter.reject(new LimiterClosedError());
  }

  pause(ms: number): void {
    this.#pausedUntil = Math.max(this.#pausedUntil, this.#clock.now() + ms);
    this.#schedule(true);
  }

  waiting(): number {
    return this.#waiters.length;
  }

  #refill(): void {
    const now = this.#clock.now();
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#last) / 1000) * this.#qps);
    this.#last = now;
  }

  #schedule(reset = false): void {
    if (this.#timer && !reset) return;
    this.#timer?.cancel();
    this.#timer = undefined;
    if (this.#waiters.length === 0) return;
    this.#refill();
    const now = this.#clock.now();
    const untilToken = this.#tokens >= 1 ? 0 : ((1 - this.#tokens) / this.#qps) * 1000;
    const wait = Math.max(untilToken, this.#pausedUntil - now, 0);
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.#release();
    }, Math.ceil(wait));
  }

  #release(): void {
    this.#refill();
    while (
      this.#waiters.length > 0 &&
      this.#clock.now() >= this.#pausedUntil &&
      this.#tokens >= 1
    ) {
      this.#tokens -= 1;
      this.#waiters.shift()!.resolve();
    }
    this.#schedule();
  }
}

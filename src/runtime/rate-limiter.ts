import { systemClock, type Clock } from './clock.ts';
import { currentFlow } from './flow.ts';

/** Thrown to callers still waiting for a token when the process shuts down. */
export class LimiterClosedError extends Error {
  override readonly name = 'LimiterClosedError';
  constructor() {
    super('rate limiter closed: shutting down');
  }
}

interface Waiter {
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * Priority calls a flow may make ahead of the busy flows (a sparse flow's credit), and how fast an
 * idle flow earns them back, as a share of the bucket's rate. Four calls cover one fresh binding
 * (GetRole, ListTagResources, CreateRole, AttachPolicyToRole); a quarter of the rate refills them
 * in 4 / (qps / 4) seconds (3.2 s at qps 5). A choice, measured with `npm run bench:fairness`
 * (docs/adr/0009-fair-ram-limiter.md), not a RAM fact.
 */
const SPARSE_CALLS = 4;
const SPARSE_REFILL_SHARE = 0.25;

/** The flow of calls made outside any flow (cluster identity discovery at start-up). */
const NO_FLOW = Symbol('no flow');
type FlowKey = string | typeof NO_FLOW;

/**
 * A token bucket shared by every RAM call (RAM limits per account, not per binding). Waiters are
 * grouped by flow (the namespace being reconciled, read from `currentFlow()`; calls outside any
 * flow form a flow of their own) and tokens go round-robin to the flows that have waiters, first
 * come first served within a flow: a namespace with many failing bindings cannot take the budget
 * of the others (docs/adr/0009-fair-ram-limiter.md). `fair: false` puts every waiter in one flow
 * (plain FIFO). `pause` stops everyone for a while: when RAM answers with throttling and
 * `x-acs-retry-after`, hammering it from other workers would only extend the throttling.
 */
export class TokenBucket {
  readonly #clock: Clock;
  readonly #qps: number;
  readonly #burst: number;
  readonly #fair: boolean;
  #tokens: number;
  #last: number;
  #pausedUntil = 0;
  /** Waiters per flow, FIFO; a flow is present only while it has waiters. */
  readonly #flows = new Map<FlowKey, Waiter[]>();
  /** Flows with waiters in round-robin order: the head is served next, then goes to the back. */
  #ring: FlowKey[] = [];
  /**
   * Flows that just became active (had no waiter) and have credit left, served before the ring,
   * one grant each, as fq_codel's new-flow list does: a tenant converging one binding (a few
   * calls one at a time) does not wait behind a busy tenant's backlog. The credit bounds it: a
   * flow that keeps coming back at once spends it and then takes turns in the ring like everyone,
   * so a stream of one-at-a-time calls cannot starve the busy flows either.
   */
  #fresh: FlowKey[] = [];
  /** Credit of flows that spent some recently (absent: full); see SPARSE_CALLS. */
  readonly #credit = new Map<FlowKey, { calls: number; atMs: number }>();
  readonly #creditPerMs: number;
  #waiting = 0;
  #timer: { cancel(): void } | undefined;
  #closed = false;

  constructor(options: { qps: number; burst: number; clock?: Clock; fair?: boolean }) {
    this.#clock = options.clock ?? systemClock;
    this.#qps = options.qps;
    this.#burst = Math.max(1, options.burst);
    this.#fair = options.fair ?? true;
    this.#tokens = this.#burst;
    this.#last = this.#clock.now();
    this.#creditPerMs = (this.#qps * SPARSE_REFILL_SHARE) / 1000;
  }

  tryAcquire(): boolean {
    this.#refill();
    if (this.#waiting > 0 || this.#clock.now() < this.#pausedUntil || this.#tokens < 1)
      return false;
    this.#tokens -= 1;
    return true;
  }

  /** Waits for a token as part of `flow` (default: the caller's `currentFlow()`). */
  async acquire(flow: string | undefined = currentFlow()): Promise<void> {
    if (this.#closed) throw new LimiterClosedError();
    if (this.tryAcquire()) return;
    const key: FlowKey = this.#fair ? (flow ?? NO_FLOW) : NO_FLOW;
    await new Promise<void>((resolve, reject) => {
      let queue = this.#flows.get(key);
      if (!queue) {
        queue = [];
        this.#flows.set(key, queue);
        if (this.#takeCredit(key)) this.#fresh.push(key);
        else this.#ring.push(key);
      }
      queue.push({ resolve, reject });
      this.#waiting++;
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
    const queues = [...this.#flows.values()];
    this.#flows.clear();
    this.#ring = [];
    this.#fresh = [];
    this.#credit.clear();
    this.#waiting = 0;
    for (const waiter of queues.flat()) waiter.reject(new LimiterClosedError());
  }

  pause(ms: number): void {
    this.#pausedUntil = Math.max(this.#pausedUntil, this.#clock.now() + ms);
    this.#schedule(true);
  }

  waiting(): number {
    return this.#waiting;
  }

  /** The next waiter: a newly active flow first, else round-robin; FIFO within a flow. */
  #next(): Waiter {
    const key = this.#fresh.shift() ?? this.#ring.shift()!;
    const queue = this.#flows.get(key)!;
    const waiter = queue.shift()!;
    if (queue.length > 0) this.#ring.push(key);
    else this.#flows.delete(key);
    this.#waiting--;
    return waiter;
  }

  /** Spends one priority call of `key`'s credit, if it has one (refilled by idle time). */
  #takeCredit(key: FlowKey): boolean {
    const now = this.#clock.now();
    const entry = this.#credit.get(key);
    const earned = entry ? (now - entry.atMs) * this.#creditPerMs : SPARSE_CALLS;
    const calls = Math.min(SPARSE_CALLS, (entry?.calls ?? 0) + Math.max(0, earned));
    if (calls < 1) {
      this.#credit.set(key, { calls, atMs: now });
      return false;
    }
    this.#credit.set(key, { calls: calls - 1, atMs: now });
    if (this.#credit.size > 1024) this.#forgetRefilled(now);
    return true;
  }

  /** Drops the entries of flows whose credit is full again (bounded memory, same answers). */
  #forgetRefilled(now: number): void {
    for (const [key, entry] of this.#credit)
      if (entry.calls + (now - entry.atMs) * this.#creditPerMs >= SPARSE_CALLS)
        this.#credit.delete(key);
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
    if (this.#waiting === 0) return;
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
    while (this.#waiting > 0 && this.#clock.now() >= this.#pausedUntil && this.#tokens >= 1) {
      this.#tokens -= 1;
      this.#next().resolve();
    }
    this.#schedule();
  }
}

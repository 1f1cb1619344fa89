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
 *
 * Fair between flows (a binding key's namespace): ready keys wait in one FIFO per flow and
 * workers take them round-robin across flows, so one tenant's many failing bindings cannot keep
 * another tenant's binding waiting behind them for a worker (the RAM limiter is fair the same
 * way, see rate-limiter.ts).
 */
export class WorkQueue {
  readonly #clock: Clock;
  readonly #backoff: BackoffOptions;
  /** Ready keys: one FIFO per flow, and the flows that have keys, in serving order. */
  readonly #flows = new Map<string, string[]>();
  readonly #rotation: string[] = [];
  #size = 0;
  readonly #flowOf: (key: string) => string;
  /** Keys being processed per flow, and the most one flow may have. */
  readonly #inFlight = new Map<string, number>();
  readonly #maxPerFlow: number;
  readonly #dirty = new Set<string>();
  readonly #processing = new Set<string>();
  readonly #failures = new Map<string, number>();
  /**
   * Delayed keys: when each is due, and one min-heap over them with a single timer for the
   * earliest (not a timer per key: 5000 converged bindings each waiting for a resync cost one
   * timer). Heap entries superseded by a later addAfter are skipped when they surface.
   */
  readonly #delayed = new Map<string, number>();
  readonly #heap = new DelayHeap();
  #timer: { at: number; cancel(): void } | undefined;
  readonly #waiters: ((key: string | undefined) => void)[] = [];
  #shuttingDown = false;
  #drained: (() => void) | undefined;
  onAdd: ((key: string) => void) | undefined;

  constructor(
    options: {
      clock?: Clock;
      backoff?: BackoffOptions;
      flowOf?: (key: string) => string;
      /**
       * The most workers one flow may hold: set below the worker count, it keeps a worker free
       * for a namespace that becomes active while another's reconciles hold the rest (they are
       * never preempted).
       */
      maxPerFlow?: number;
    } = {},
  ) {
    this.#clock = options.clock ?? systemClock;
    this.#backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.#flowOf = options.flowOf ?? namespaceOf;
    this.#maxPerFlow = Math.max(1, options.maxPerFlow ?? Number.POSITIVE_INFINITY);
  }

  #eligible(flow: string): boolean {
    return (this.#inFlight.get(flow) ?? 0) < this.#maxPerFlow;
  }

  #start(key: string): void {
    this.#dirty.delete(key);
    this.#processing.add(key);
    const flow = this.#flowOf(key);
    this.#inFlight.set(flow, (this.#inFlight.get(flow) ?? 0) + 1);
  }

  #finish(key: string): void {
    if (!this.#processing.delete(key)) return;
    const flow = this.#flowOf(key);
    const count = (this.#inFlight.get(flow) ?? 1) - 1;
    if (count > 0) this.#inFlight.set(flow, count);
    else this.#inFlight.delete(flow);
  }

  /** Hands queued keys to waiting workers while any flow is below its limit. */
  #dispatch(): void {
    while (this.#waiters.length > 0) {
      const key = this.#shift();
      if (key === undefined) return;
      this.#start(key);
      this.#waiters.shift()!(key);
    }
  }

  #push(key: string): void {
    const flow = this.#flowOf(key);
    let keys = this.#flows.get(flow);
    if (!keys) {
      keys = [];
      this.#flows.set(flow, keys);
      this.#rotation.push(flow);
    }
    keys.push(key);
    this.#size++;
  }

  /** The next key round-robin across flows below their limit, FIFO within one. */
  #shift(): string | undefined {
    const index = this.#rotation.findIndex((f) => this.#eligible(f));
    if (index < 0) return undefined;
    const flow = this.#rotation.splice(index, 1)[0]!;
    const keys = this.#flows.get(flow)!;
    const key = keys.shift()!;
    this.#size--;
    if (keys.length > 0) this.#rotation.push(flow);
    else this.#flows.delete(flow);
    return key;
  }

  add(key: string): void {
    if (this.#shuttingDown || this.#dirty.has(key)) return;
    this.#dirty.add(key);
    this.onAdd?.(key);
    if (this.#processing.has(key)) return;
    this.#push(key);
    this.#dispatch();
  }

  /**
   * Adds the key after `ms`; an earlier pending delay for the same key wins, unless `replace`
   * (a successful pass schedules its resync from now: a check made early because of an event
   * moves the next one back, so a binding is checked once per period, not once per period plus
   * once per event).
   */
  addAfter(key: string, ms: number, options: { replace?: boolean } = {}): void {
    if (this.#shuttingDown) return;
    if (ms <= 0) {
      this.#delayed.delete(key);
      return this.add(key);
    }
    const at = this.#clock.now() + ms;
    const pending = this.#delayed.get(key);
    if (pending !== undefined && pending <= at && !options.replace) return;
    this.#delayed.set(key, at);
    this.#heap.push(key, at);
    this.#arm();
  }

  /** Keys waiting for their delay (each counted once). */
  delayedLen(): number {
    return this.#delayed.size;
  }

  /** Keeps the one timer set for the earliest due key. */
  #arm(): void {
    this.#dropStale();
    const next = this.#heap.peek();
    if (next === undefined || (this.#timer && this.#timer.at <= next.at)) return;
    this.#timer?.cancel();
    const at = next.at;
    const handle = this.#clock.setTimeout(
      () => {
        this.#timer = undefined;
        this.#fire();
      },
      Math.max(0, at - this.#clock.now()),
    );
    this.#timer = { at, cancel: () => handle.cancel() };
  }

  #fire(): void {
    const now = this.#clock.now();
    for (;;) {
      this.#dropStale();
      const next = this.#heap.peek();
      if (next === undefined || next.at > now) break;
      this.#heap.pop();
      this.#delayed.delete(next.key);
      this.add(next.key);
    }
    this.#arm();
  }

  #dropStale(): void {
    for (let top = this.#heap.peek(); top; top = this.#heap.peek()) {
      if (this.#delayed.get(top.key) === top.at) return;
      this.#heap.pop();
    }
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
    const key = this.#shift();
    if (key !== undefined) {
      this.#start(key);
      return key;
    }
    if (this.#shuttingDown) return undefined;
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  done(key: string): void {
    this.#finish(key);
    if (this.#dirty.has(key)) {
      this.#dirty.delete(key);
      this.add(key);
    }
    this.#dispatch(); // a flow that was at its limit may have keys waiting
    if (this.#shuttingDown && this.#processing.size === 0) this.#drained?.();
  }

  len(): number {
    return this.#size;
  }

  /** Stops handing out keys; resolves once in-flight keys are done. Queued keys are dropped. */
  async shutDownWithDrain(): Promise<void> {
    this.#shuttingDown = true;
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#delayed.clear();
    this.#heap.clear();
    for (const waiter of this.#waiters.splice(0)) waiter(undefined);
    this.#flows.clear();
    this.#rotation.length = 0;
    this.#size = 0;
    if (this.#processing.size === 0) return;
    await new Promise<void>((resolve) => (this.#drained = resolve));
  }

  isShuttingDown(): boolean {
    return this.#shuttingDown;
  }
}

/** A binding key's flow: its namespace (`namespace/name`); a key without a slash is its own. */
export function namespaceOf(key: string): string {
  const slash = key.indexOf('/');
  return slash < 0 ? key : key.slice(0, slash);
}

/** A binary min-heap of (key, due time). */
class DelayHeap {
  readonly #items: { key: string; at: number }[] = [];

  push(key: string, at: number): void {
    const items = this.#items;
    items.push({ key, at });
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (items[parent]!.at <= items[i]!.at) break;
      [items[parent], items[i]] = [items[i]!, items[parent]!];
      i = parent;
    }
  }

  peek(): { key: string; at: number } | undefined {
    return this.#items[0];
  }

  pop(): void {
    const items = this.#items;
    const last = items.pop();
    if (last === undefined || items.length === 0) return;
    items[0] = last;
    for (let i = 0; ;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let min = i;
      if (l < items.length && items[l]!.at < items[min]!.at) min = l;
      if (r < items.length && items[r]!.at < items[min]!.at) min = r;
      if (min === i) return;
      [items[min], items[i]] = [items[i]!, items[min]!];
      i = min;
    }
  }

  clear(): void {
    this.#items.length = 0;
  }
}

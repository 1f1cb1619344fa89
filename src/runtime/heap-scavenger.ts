import { getHeapStatistics } from 'node:v8';
import type { Clock } from './clock.ts';

/**
 * Gives the V8 heap's free pages back to the OS after a burst (docs/adr/0019). After a burst of
 * reconciles V8 collects the garbage but keeps the swept pages committed (10k ServiceAccounts /
 * 5k bindings: 42 MiB old space used, 235 committed, 90 s later), and RSS never comes down; only
 * a memory-reducing collection (the "last resort" flavor) compacts and releases them. Go's runtime
 * does the same in the background (its scavenger); Node has no such thing, so this checks the heap
 * now and then and asks for that collection when enough is reclaimable. It caps nothing: the heap
 * may grow as the work needs.
 */

export interface HeapSample {
  /** Bytes of live (and not yet collected) objects. */
  used: number;
  /** Bytes V8 holds committed for the heap. */
  committed: number;
  /**
   * The event loop's utilization since the previous sample, 0..1 (Node's ELU); undefined when
   * unknown. Near 0 means the process is idle: a pause there delays nothing.
   */
  busy?: number;
}

export interface ScavengePolicy {
  /** Committed but unused bytes worth a collection (default 32 MiB). */
  minReclaimableBytes: number;
  /** At most one collection per this long, so a long burst pays a pause now and then only. */
  minIntervalMs: number;
  /**
   * When idle (`busy` at most `idleBusy`), a smaller reclaimable amount is worth it too: after
   * start-up or a small burst the young generation and swept pages hold 10-30 MiB that nothing
   * will collect while nothing runs, and a pause then costs no one anything.
   */
  idleReclaimableBytes: number;
  idleBusy: number;
  /** Idle collections are rarer: a mostly idle manager pays one pause per this long at most. */
  idleMinIntervalMs: number;
}

export const DEFAULT_SCAVENGE_POLICY: ScavengePolicy = {
  minReclaimableBytes: 32 * 2 ** 20,
  minIntervalMs: 30_000,
  idleReclaimableBytes: 8 * 2 ** 20,
  idleBusy: 0.05,
  idleMinIntervalMs: 300_000,
};

/** Pure: whether this sample is worth a memory-reducing collection now. */
export function shouldScavenge(
  sample: HeapSample,
  sinceLastMs: number | undefined,
  policy: ScavengePolicy = DEFAULT_SCAVENGE_POLICY,
): boolean {
  const reclaimable = sample.committed - sample.used;
  const waited = (intervalMs: number): boolean =>
    sinceLastMs === undefined || sinceLastMs >= intervalMs;
  if (reclaimable >= policy.minReclaimableBytes) return waited(policy.minIntervalMs);
  const idle = sample.busy !== undefined && sample.busy <= policy.idleBusy;
  return idle && reclaimable >= policy.idleReclaimableBytes && waited(policy.idleMinIntervalMs);
}

export interface ScavengeReport {
  before: HeapSample;
  after: HeapSample;
  pauseMs: number;
}

export interface HeapScavengerDeps {
  clock: Clock;
  sample: () => HeapSample;
  /** A memory-reducing full collection (V8's gc extension, `flavor: 'last-resort'`). */
  collect: () => void;
  checkEveryMs?: number;
  policy?: ScavengePolicy;
  onScavenge?: (report: ScavengeReport) => void;
}

export class HeapScavenger {
  readonly #d: HeapScavengerDeps;
  #lastAt: number | undefined;
  #timer: { cancel(): void } | undefined;
  #stopped = false;

  constructor(deps: HeapScavengerDeps) {
    this.#d = deps;
  }

  start(): void {
    this.#stopped = false;
    this.#schedule();
  }

  stop(): void {
    this.#stopped = true;
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  /** One check; returns the report when it collected. */
  check(): ScavengeReport | undefined {
    const { clock } = this.#d;
    const before = this.#d.sample();
    const since = this.#lastAt === undefined ? undefined : clock.now() - this.#lastAt;
    if (!shouldScavenge(before, since, this.#d.policy)) return undefined;
    const started = performance.now();
    this.#d.collect();
    const report = { before, after: this.#d.sample(), pauseMs: performance.now() - started };
    this.#lastAt = clock.now();
    this.#d.onScavenge?.(report);
    return report;
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = this.#d.clock.setTimeout(() => {
      this.check();
      this.#schedule();
    }, this.#d.checkEveryMs ?? 10_000);
  }
}

type GcWithOptions = (options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;

/**
 * The scavenger over this process's V8 heap, or undefined when node runs without `--expose-gc`
 * (the image's ENTRYPOINT passes it; `npm run rrsa-operator` and tests do not).
 */
export function processHeapScavenger(
  clock: Clock,
  onScavenge?: (report: ScavengeReport) => void,
): HeapScavenger | undefined {
  const gc = (globalThis as { gc?: GcWithOptions }).gc;
  if (typeof gc !== 'function') return undefined;
  let since = performance.eventLoopUtilization();
  return new HeapScavenger({
    clock,
    sample: () => {
      const heap = getHeapStatistics();
      const now = performance.eventLoopUtilization();
      const busy = performance.eventLoopUtilization(now, since).utilization;
      since = now;
      return { used: heap.used_heap_size, committed: heap.total_heap_size, busy };
    },
    collect: () => gc({ type: 'major', execution: 'sync', flavor: 'last-resort' }),
    ...(onScavenge ? { onScavenge } : {}),
  });
}

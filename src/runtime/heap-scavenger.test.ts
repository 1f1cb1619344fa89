import { FakeClock } from './clock.ts';
import {
  DEFAULT_SCAVENGE_POLICY,
  HeapScavenger,
  shouldScavenge,
  type HeapSample,
} from './heap-scavenger.ts';

const MiB = 2 ** 20;

describe('shouldScavenge', () => {
  it('collects when at least 32 MiB of the committed heap is unused', () => {
    expect(shouldScavenge({ used: 42 * MiB, committed: 235 * MiB }, undefined)).toBe(true);
    expect(shouldScavenge({ used: 42 * MiB, committed: 74 * MiB }, undefined)).toBe(true);
    expect(shouldScavenge({ used: 42 * MiB, committed: 73 * MiB }, undefined)).toBe(false);
  });

  it('when idle, collects from 8 MiB reclaimable, at most once per 5 minutes', () => {
    const settled = { used: 27 * MiB, committed: 45 * MiB }; // start-up's young generation
    expect(shouldScavenge(settled, undefined)).toBe(false); // busy unknown: not idle
    expect(shouldScavenge({ ...settled, busy: 0.2 }, undefined)).toBe(false);
    expect(shouldScavenge({ ...settled, busy: 0.01 }, undefined)).toBe(true);
    expect(shouldScavenge({ ...settled, busy: 0.01 }, 299_999)).toBe(false);
    expect(shouldScavenge({ ...settled, busy: 0.01 }, 300_000)).toBe(true);
    expect(shouldScavenge({ used: 27 * MiB, committed: 34 * MiB, busy: 0 }, undefined)).toBe(false);
  });

  it('waits the minimum interval after the last collection', () => {
    const bloated = { used: 10 * MiB, committed: 200 * MiB };
    expect(shouldScavenge(bloated, DEFAULT_SCAVENGE_POLICY.minIntervalMs - 1)).toBe(false);
    expect(shouldScavenge(bloated, DEFAULT_SCAVENGE_POLICY.minIntervalMs)).toBe(true);
  });
});

/** A heap that grows with `allocate` and shrinks to its live bytes when collected. */
function fakeHeap() {
  const heap = { live: 20 * MiB, garbage: 0, committed: 30 * MiB };
  return {
    heap,
    /** Garbage that V8's regular collections sweep but whose pages stay committed. */
    allocate(bytes: number) {
      heap.committed = Math.max(heap.committed, heap.live + heap.garbage + bytes);
      heap.garbage = 0;
    },
    sample: (): HeapSample => ({ used: heap.live + heap.garbage, committed: heap.committed }),
    collect() {
      heap.garbage = 0;
      heap.committed = heap.live + 2 * MiB;
    },
  };
}

describe('HeapScavenger', () => {
  it('gives back the pages of a burst once, then waits for the next burst', () => {
    const clock = new FakeClock();
    const h = fakeHeap();
    const collected: number[] = [];
    const scavenger = new HeapScavenger({
      clock,
      sample: h.sample,
      collect: () => {
        collected.push(clock.now());
        h.collect();
      },
      checkEveryMs: 10_000,
    });
    scavenger.start();
    clock.advance(30_000);
    expect(collected).toEqual([]); // idle heap: nothing worth a pause
    h.allocate(200 * MiB); // the reconcile burst: swept, but its pages stay committed
    clock.advance(10_000);
    expect(collected).toEqual([40_000]);
    expect(h.sample().committed).toBe(22 * MiB);
    clock.advance(60_000);
    expect(collected).toEqual([40_000]); // nothing reclaimable since
    h.allocate(100 * MiB);
    clock.advance(10_000);
    expect(collected).toEqual([40_000, 110_000]);
    scavenger.stop();
    h.allocate(100 * MiB);
    clock.advance(120_000);
    expect(collected).toHaveLength(2); // stopped: no more checks
  });

  it('gives back start-up garbage once the process turns idle, and only then', () => {
    const clock = new FakeClock();
    const h = fakeHeap();
    let busy = 0.9;
    const collected: number[] = [];
    const scavenger = new HeapScavenger({
      clock,
      sample: () => ({ ...h.sample(), busy }),
      collect: () => {
        collected.push(clock.now());
        h.collect();
      },
      checkEveryMs: 10_000,
    });
    h.allocate(15 * MiB); // start-up: committed 35 MiB, 20 live
    scavenger.start();
    clock.advance(20_000);
    expect(collected).toEqual([]); // busy: 15 MiB is under the 32 MiB of the busy rule
    busy = 0.01;
    clock.advance(10_000);
    expect(collected).toEqual([30_000]);
    h.allocate(10 * MiB); // a small burst later, then idle again: not before 5 minutes
    clock.advance(200_000);
    expect(collected).toEqual([30_000]);
    clock.advance(100_000);
    expect(collected).toEqual([30_000, 330_000]);
    scavenger.stop();
  });

  it('during a long burst collects at most once per interval', () => {
    const clock = new FakeClock();
    const h = fakeHeap();
    let collections = 0;
    const scavenger = new HeapScavenger({
      clock,
      sample: h.sample,
      collect: () => {
        collections++;
        h.collect();
      },
      checkEveryMs: 10_000,
    });
    scavenger.start();
    for (let t = 0; t < 300_000; t += 10_000) {
      h.allocate(64 * MiB);
      clock.advance(10_000);
    }
    // 300 s of constant garbage: one at the first check, then one per interval (30 s).
    expect(collections).toBe(1 + Math.floor(290_000 / DEFAULT_SCAVENGE_POLICY.minIntervalMs));
    scavenger.stop();
  });

  it('reports what it freed and how long the pause took', () => {
    const clock = new FakeClock();
    const h = fakeHeap();
    h.allocate(100 * MiB);
    const scavenger = new HeapScavenger({ clock, sample: h.sample, collect: () => h.collect() });
    const report = scavenger.check();
    expect(report?.before).toEqual({ used: 20 * MiB, committed: 120 * MiB });
    expect(report?.after).toEqual({ used: 20 * MiB, committed: 22 * MiB });
    expect(report?.pauseMs).toBeGreaterThanOrEqual(0);
  });
});

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

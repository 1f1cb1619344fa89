import { FakeClock } from './clock.ts';
import { currentFlow, runInFlow } from './flow.ts';
import { LimiterClosedError, TokenBucket } from './rate-limiter.ts';

const flush = () => new Promise((r) => setImmediate(r));

/** A bucket with an empty burst spent, and a log of who got a token in which order. */
function drained(options: { fair?: boolean; qps?: number } = {}) {
  const clock = new FakeClock();
  const bucket = new TokenBucket({ qps: options.qps ?? 10, burst: 1, clock, ...options });
  expect(bucket.tryAcquire()).toBe(true);
  const granted: string[] = [];
  const request = (flow: string | undefined, label: string) =>
    bucket.acquire(flow).then(() => {
      granted.push(label);
    });
  /** Advances by one token's worth (qps 10: 100 ms) `n` times. */
  const grant = async (n = 1) => {
    for (let i = 0; i < n; i++) {
      clock.advance(1000 / (options.qps ?? 10));
      await flush();
    }
  };
  return { clock, bucket, granted, request, grant };
}

describe('TokenBucket fair queuing', () => {
  it('grants a quiet flow within 2 grants even behind 20 waiters of a busy flow', async () => {
    const { granted, request, grant } = drained();
    for (let i = 0; i < 20; i++) void request('team-a', `a${i}`);
    void request('team-b', 'b0');
    await grant(2);
    expect(granted).toEqual(['a0', 'b0']);
  });

  it('serves a flow that makes one call at a time on the next grant, every time (new-flow priority)', async () => {
    const { granted, request, grant } = drained();
    for (let i = 0; i < 20; i++) void request('team-a', `a${i}`);
    await grant(1); // a0
    for (let i = 0; i < 3; i++) {
      void request('team-b', `b${i}`); // the next call of a sequential reconcile
      await grant(1);
      expect(granted.at(-1)).toBe(`b${i}`);
      await grant(1); // the busy flow still gets every grant nobody new claims
      expect(granted.at(-1)).toMatch(/^a/);
    }
  });

  it('gives a flow that comes straight back at most its credit of priority calls, then turns', async () => {
    // qps 10: credit refills at 2.5 calls/s. Flow b asks again the moment it is granted (a
    // reconcile making one call at a time with no latency); flow a has a backlog.
    const { granted, request, grant } = drained();
    for (let i = 0; i < 200; i++) void request('team-a', `a${i}`);
    let b = 0;
    const again = (): Promise<void> => request('team-b', `b${b++}`).then(again);
    void again();
    await grant(5); // a's first call was fresh too
    expect(granted).toEqual(['a0', 'b0', 'b1', 'b2', 'b3']); // one fresh binding's worth at once
    await grant(35);
    // Afterwards b has priority only as fast as credit refills (1 per 4 grants here) and takes
    // turns otherwise: a, the backlog, still gets well over a third of all grants.
    const a = granted.filter((g) => g.startsWith('a')).length;
    expect(a).toBeGreaterThanOrEqual(14);
    expect(granted.length).toBe(40);
  });

  it('gives an idle flow its credit back with time', async () => {
    const { granted, request, grant, clock } = drained();
    for (let i = 0; i < 200; i++) void request('team-a', `a${i}`);
    await grant(1);
    for (let i = 0; i < 5; i++) {
      void request('team-b', `b${i}`); // a sequential reconcile's next call
      await grant(1);
    }
    // 4 calls of credit, plus the one earned in the 0.4 s they took.
    expect(granted).toEqual(['a0', 'b0', 'b1', 'b2', 'b3', 'b4']);
    granted.length = 0;
    void request('team-b', 'late'); // no credit left: takes its turn after a
    await grant(2);
    expect(granted).toEqual(['a1', 'late']);
    clock.advance(1600); // b idles while a is served: 4 calls back at 2.5 calls/s
    await flush();
    granted.length = 0;
    void request('team-b', 'rested');
    await grant(1);
    expect(granted).toEqual(['rested']);
  });

  it('without fairness the same waiter comes after all 20 (the behaviour this replaces)', async () => {
    const { granted, request, grant } = drained({ fair: false });
    for (let i = 0; i < 20; i++) void request('team-a', `a${i}`);
    void request('team-b', 'b0');
    await grant(20);
    expect(granted).not.toContain('b0');
    await grant();
    expect(granted.at(-1)).toBe('b0');
  });

  it('is first come first served within a flow, round-robin across flows, calls outside a flow being one flow', async () => {
    const { granted, request, grant, bucket } = drained();
    for (let i = 0; i < 3; i++) void request('a', `a${i}`);
    for (let i = 0; i < 2; i++) void request('b', `b${i}`);
    void request(undefined, 'none0');
    void request(undefined, 'none1');
    expect(bucket.waiting()).toBe(7);
    await grant(7);
    expect(granted).toEqual(['a0', 'b0', 'none0', 'a1', 'b1', 'none1', 'a2']);
    expect(bucket.waiting()).toBe(0);
  });

  it('starves no one: a flow that keeps re-queuing still leaves every other flow its turn', async () => {
    const { granted, request, grant } = drained();
    let busy = 0;
    // Flow a re-queues a new waiter every time one of its waiters is granted (never empties).
    const again = (): Promise<void> => request('a', `a${busy++}`).then(again);
    for (let i = 0; i < 5; i++) void again();
    for (const flow of ['b', 'c', 'd']) void request(flow, flow);
    await grant(8);
    expect(granted.slice(0, 8).filter((g) => !g.startsWith('a'))).toEqual(['b', 'c', 'd']);
    // Past the others, flow a is served at the full rate.
    await grant(10);
    expect(granted.length).toBe(18);
  });

  it('reads the flow from the caller when none is passed', async () => {
    const { bucket, granted, grant } = drained();
    const tagged = (flow: string, label: string) =>
      runInFlow(flow, () => bucket.acquire().then(() => void granted.push(label)));
    for (let i = 0; i < 5; i++) void tagged('a', `a${i}`);
    void tagged('b', 'b0');
    await grant(2);
    expect(granted).toEqual(['a0', 'b0']);
  });

  it('keeps pause across flows: no flow is granted while paused, then round-robin resumes', async () => {
    const { bucket, granted, request, grant, clock } = drained();
    void request('a', 'a0');
    void request('a', 'a1');
    void request('b', 'b0');
    bucket.pause(1000);
    clock.advance(900);
    await flush();
    expect(granted).toEqual([]);
    clock.advance(100);
    await flush();
    expect(granted).toEqual(['a0']);
    await grant(2);
    expect(granted).toEqual(['a0', 'b0', 'a1']);
  });

  it('fails the waiters of every flow on close', async () => {
    const { bucket, request } = drained();
    const a = request('a', 'a0');
    const b = request('b', 'b0');
    const none = request(undefined, 'n0');
    bucket.close();
    await expect(a).rejects.toBeInstanceOf(LimiterClosedError);
    await expect(b).rejects.toBeInstanceOf(LimiterClosedError);
    await expect(none).rejects.toBeInstanceOf(LimiterClosedError);
    expect(bucket.waiting()).toBe(0);
    await expect(bucket.acquire('a')).rejects.toThrow('rate limiter closed');
  });
});

describe('runInFlow', () => {
  it('carries the flow across awaits and timers, and two interleaved flows do not mix', async () => {
    expect(currentFlow()).toBeUndefined();
    const seen: string[] = [];
    const work = (flow: string, delays: number[]) =>
      runInFlow(flow, async () => {
        for (const ms of delays) {
          await new Promise((r) => setTimeout(r, ms));
          await flush();
          seen.push(`${flow}:${currentFlow()}`);
        }
        return currentFlow();
      });
    const [a, b] = await Promise.all([work('a', [5, 1, 5, 1]), work('b', [1, 5, 1, 5])]);
    expect([a, b]).toEqual(['a', 'b']);
    expect(seen).toHaveLength(8);
    for (const entry of seen) expect(entry.split(':')[0]).toBe(entry.split(':')[1]);
    expect(currentFlow()).toBeUndefined();
  });

  it('nests: the inner flow wins inside and the outer one is back afterwards', async () => {
    await runInFlow('outer', async () => {
      await runInFlow('inner', async () => {
        await flush();
        expect(currentFlow()).toBe('inner');
      });
      expect(currentFlow()).toBe('outer');
    });
  });
});

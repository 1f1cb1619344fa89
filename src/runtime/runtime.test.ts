import { CloudError } from '../cloud/errors.ts';
import { FakeClock } from './clock.ts';
import { LimiterClosedError, TokenBucket } from './rate-limiter.ts';
import { jitter, retryAfterOf, runWorkers } from './workers.ts';
import { WorkQueue } from './workqueue.ts';

const flush = () => new Promise((r) => setImmediate(r));

describe('WorkQueue', () => {
  it('dedupes queued keys and never hands out a key being processed', async () => {
    const queue = new WorkQueue({ clock: new FakeClock() });
    queue.add('a');
    queue.add('a');
    queue.add('b');
    expect(queue.len()).toBe(2);
    const first = await queue.get();
    expect(first).toBe('a');
    queue.add('a'); // changed while processing: queued again after done, not handed out now
    expect(await queue.get()).toBe('b');
    expect(queue.len()).toBe(0);
    queue.done('a');
    expect(await queue.get()).toBe('a');
  });

  it('backs off exponentially per key, honours a minimum, and forgets', () => {
    const clock = new FakeClock();
    const queue = new WorkQueue({ clock, backoff: { baseMs: 10, maxMs: 100 } });
    expect([1, 2, 3, 4, 5].map(() => queue.addRateLimited('k'))).toEqual([10, 20, 40, 80, 100]);
    queue.forget('k');
    expect(queue.addRateLimited('k', 5000)).toBe(5000);
  });

  it('delivers delayed keys when the time comes, earliest delay winning', async () => {
    const clock = new FakeClock();
    const queue = new WorkQueue({ clock });
    queue.addAfter('k', 1000);
    queue.addAfter('k', 500);
    clock.advance(499);
    expect(queue.len()).toBe(0);
    clock.advance(1);
    expect(queue.len()).toBe(1);
    expect(await queue.get()).toBe('k');
  });

  it('drains in-flight work on shutdown and hands out nothing more', async () => {
    const queue = new WorkQueue({ clock: new FakeClock() });
    queue.add('a');
    queue.add('b');
    await queue.get();
    let drained = false;
    const shutdown = queue.shutDownWithDrain().then(() => (drained = true));
    await Promise.resolve();
    expect(drained).toBe(false);
    expect(await queue.get()).toBeUndefined();
    queue.done('a');
    await shutdown;
    expect(drained).toBe(true);
  });
});

describe('TokenBucket', () => {
  it('allows the burst, then the rate, and pauses everyone on demand', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket({ qps: 10, burst: 2, clock });
    expect(bucket.tryAcquire()).toBe(true);
    expect(bucket.tryAcquire()).toBe(true);
    expect(bucket.tryAcquire()).toBe(false);
    let got = 0;
    const waiters = [bucket.acquire(), bucket.acquire()].map((p) => p.then(() => got++));
    clock.advance(100);
    await flush();
    expect(got).toBe(1);
    bucket.pause(1000);
    clock.advance(900);
    await flush();
    expect(got).toBe(1);
    clock.advance(200);
    await Promise.all(waiters);
    expect(got).toBe(2);
  });

  it('fails pending and later waiters once closed, so a shutdown never waits for a token', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket({ qps: 0.01, burst: 1, clock });
    await bucket.acquire();
    const pending = bucket.acquire();
    bucket.close();
    await expect(pending).rejects.toBeInstanceOf(LimiterClosedError);
    await expect(bucket.acquire()).rejects.toThrow('rate limiter closed');
    expect(bucket.waiting()).toBe(0);
  });
});

describe('runWorkers', () => {
  it('retries failures with backoff no sooner than the cloud retry-after, and schedules resync', async () => {
    const clock = new FakeClock();
    const queue = new WorkQueue({ clock, backoff: { baseMs: 10, maxMs: 1000 } });
    const calls: string[] = [];
    let fail = true;
    const running = runWorkers(queue, 2, async (key) => {
      await Promise.resolve();
      calls.push(key);
      if (fail) {
        fail = false;
        throw new CloudError({
          kind: 'Throttled',
          code: 'Throttling.User',
          action: 'GetRole',
          message: 'slow down',
          retryAfterMs: 700,
        });
      }
      return { requeueAfterMs: 60_000 };
    });
    queue.add('k');
    await new Promise((r) => setImmediate(r));
    expect(calls).toEqual(['k']);
    clock.advance(699);
    await new Promise((r) => setImmediate(r));
    expect(calls).toEqual(['k']);
    clock.advance(1);
    await new Promise((r) => setImmediate(r));
    expect(calls).toEqual(['k', 'k']);
    expect(queue.retries('k')).toBe(0);
    clock.advance(66_000);
    await new Promise((r) => setImmediate(r));
    expect(calls).toEqual(['k', 'k', 'k']);
    await queue.shutDownWithDrain();
    await running;
  });

  it('reads retry-after from errors and jitters within ±10%', () => {
    expect(retryAfterOf(Object.assign(new Error('x'), { retryAfterMs: 5 }))).toBe(5);
    expect(retryAfterOf(new Error('x'))).toBeUndefined();
    expect(jitter(1000, () => 0)).toBe(900);
    expect(jitter(1000, () => 1)).toBe(1100);
  });
});

describe('runWorkers backoff on progress', () => {
  it('restarts the backoff of a key whose failed reconcile made progress', async () => {
    const clock = new FakeClock();
    const queue = new WorkQueue({ clock, backoff: { baseMs: 10, maxMs: 10_000 } });
    let attempt = 0;
    const delays: number[] = [];
    const original = queue.addRateLimited.bind(queue);
    queue.addRateLimited = (key: string, min?: number) => {
      const d = original(key, min);
      delays.push(d);
      return d;
    };
    const done = runWorkers(queue, 1, () => {
      attempt++;
      const error = Object.assign(new Error('x'), { progressed: attempt === 4 });
      return Promise.reject(error);
    });
    queue.add('k');
    for (let i = 0; i < 6; i++) {
      await flush();
      clock.advance(10_000);
    }
    await flush();
    await queue.shutDownWithDrain();
    await done;
    expect(delays.slice(0, 5)).toEqual([10, 20, 40, 10, 20]);
  });
});

describe('WorkQueue fairness', () => {
  it('hands out ready keys round-robin across namespaces, FIFO within one', async () => {
    const queue = new WorkQueue({ clock: new FakeClock() });
    for (let i = 0; i < 20; i++) queue.add(`noisy/b${i}`);
    queue.add('quiet/fresh');
    expect(queue.len()).toBe(21);
    const order = [await queue.get(), await queue.get(), await queue.get()];
    expect(order).toEqual(['noisy/b0', 'quiet/fresh', 'noisy/b1']);
    expect(queue.len()).toBe(18);
  });
});

describe('WorkQueue per-flow limit', () => {
  it('keeps a worker free for another namespace while one holds its limit', async () => {
    const queue = new WorkQueue({ clock: new FakeClock(), maxPerFlow: 2 });
    for (let i = 0; i < 5; i++) queue.add(`noisy/b${i}`);
    expect(await queue.get()).toBe('noisy/b0');
    expect(await queue.get()).toBe('noisy/b1');
    let third: string | undefined;
    const waiting = queue.get().then((k) => (third = k));
    await flush();
    expect(third).toBeUndefined(); // noisy is at its limit: the worker waits
    queue.add('quiet/fresh');
    await waiting;
    expect(third).toBe('quiet/fresh');
    const fourth = queue.get();
    queue.done('noisy/b0'); // below the limit again: its next key goes out
    expect(await fourth).toBe('noisy/b2');
    expect(queue.len()).toBe(2);
  });

  it('re-queues a key changed while processing without breaking the limit', async () => {
    const queue = new WorkQueue({ clock: new FakeClock(), maxPerFlow: 1 });
    queue.add('a/1');
    expect(await queue.get()).toBe('a/1');
    queue.add('a/1'); // dirty while processing
    queue.add('a/2');
    queue.done('a/1');
    expect(queue.len()).toBe(2);
    expect(await queue.get()).toBe('a/2');
  });
});

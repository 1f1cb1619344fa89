import { FakeClock, type Clock } from './clock.ts';
import { WorkQueue } from './workqueue.ts';

/** A FakeClock that counts the timers set and not yet fired or cancelled. */
function countingClock(): { clock: FakeClock & Clock; live: () => number; set: () => number } {
  const clock = new FakeClock();
  let live = 0;
  let set = 0;
  const original = clock.setTimeout.bind(clock);
  clock.setTimeout = (callback, ms) => {
    live++;
    set++;
    let open = true;
    const close = (): void => {
      if (open) live--;
      open = false;
    };
    const timer = original(() => {
      close();
      callback();
    }, ms);
    return {
      cancel: () => {
        close();
        timer.cancel();
      },
    };
  };
  return { clock, live: () => live, set: () => set };
}

async function drain(queue: WorkQueue): Promise<string[]> {
  const keys: string[] = [];
  while (queue.len() > 0) {
    const key = (await queue.get())!;
    keys.push(key);
    queue.done(key);
  }
  return keys;
}

describe('WorkQueue delays', () => {
  it('holds thousands of delayed keys on one timer and delivers them in due order', async () => {
    const { clock, live } = countingClock();
    const queue = new WorkQueue({ clock });
    const offset = (i: number): number => (i * 7919) % 5000; // a permutation of 0..4999
    for (let i = 0; i < 5000; i++) queue.addAfter(`ns/b${i}`, 600_000 + offset(i));
    const dueFirst = [0, 1, 2].map(
      (due) => `ns/b${[...Array(5000).keys()].find((i) => offset(i) === due)}`,
    );
    expect(queue.delayedLen()).toBe(5000);
    expect(live()).toBe(1);
    clock.advance(600_000 + 2);
    expect(await drain(queue)).toEqual(dueFirst);
    clock.advance(5000);
    expect((await drain(queue)).length).toBe(4997);
    expect(live()).toBe(0);
    expect(queue.delayedLen()).toBe(0);
  });

  it('keeps the earlier delay of a key, unless told to replace it', () => {
    const { clock } = countingClock();
    const queue = new WorkQueue({ clock });
    queue.addAfter('ns/kept', 100);
    queue.addAfter('ns/kept', 1000);
    queue.addAfter('ns/moved', 100);
    queue.addAfter('ns/moved', 1000, { replace: true });
    clock.advance(100);
    expect(queue.len()).toBe(1); // only ns/kept
    clock.advance(900);
    expect(queue.len()).toBe(2);
  });

  it('re-arms its one timer when an earlier key arrives, and cancels it on shutdown', async () => {
    const { clock, live, set } = countingClock();
    const queue = new WorkQueue({ clock });
    queue.addAfter('ns/late', 10_000);
    queue.addAfter('ns/early', 10);
    expect(live()).toBe(1);
    expect(set()).toBe(2);
    clock.advance(10);
    expect(await queue.get()).toBe('ns/early');
    queue.done('ns/early');
    expect(live()).toBe(1); // now set for ns/late
    await queue.shutDownWithDrain();
    expect(live()).toBe(0);
  });
});

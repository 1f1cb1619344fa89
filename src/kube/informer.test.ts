import type { KubernetesObject } from '@kubernetes/client-node';
import { FakeClock } from '../runtime/clock.ts';
import { startResilientInformer, type InformerFactory, type InformerLike } from './informer.ts';

/**
 * A stand-in for client-node's ListWatch with its real contract: start() lists, fires `error`
 * and *resolves* when the list fails; on success it adds the items, then resolves.
 */
function fakeInformerFactory(): { factory: InformerFactory; starts: () => number } {
  let starts = 0;
  const factory = (<T extends KubernetesObject>(
    _kc: unknown,
    _path: string,
    list: () => Promise<{ items: T[] }>,
  ): InformerLike<T> => {
    const handlers: Record<string, ((x: unknown) => void)[]> = {};
    const cache = new Map<string, T>();
    return {
      on: (event: string, cb: (x: never) => void) => {
        (handlers[event] ??= []).push(cb as (x: unknown) => void);
      },
      start: async () => {
        starts++;
        let result: { items: T[] };
        try {
          result = await list();
        } catch (error) {
          for (const cb of handlers.error ?? []) cb(error);
          return;
        }
        for (const item of result.items) {
          cache.set(item.metadata?.name ?? '', item);
          for (const cb of handlers.add ?? []) cb(item);
        }
      },
      stop: () => Promise.resolve(),
      get: (name: string) => cache.get(name),
      list: () => [...cache.values()],
    };
  }) as InformerFactory;
  return { factory, starts: () => starts };
}

const flush = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

describe('startResilientInformer', () => {
  it('is not synced after a failed first LIST, and backs off exponentially with jitter', async () => {
    const clock = new FakeClock();
    const { factory, starts } = fakeInformerFactory();
    let healthy = false;
    const delays: number[] = [];
    const informer = startResilientInformer<KubernetesObject>({
      name: 'test',
      rest: {} as never,
      path: '/api/v1/serviceaccounts',
      list: () =>
        healthy
          ? Promise.resolve({ items: [{ metadata: { name: 'a', namespace: 'n' } }] } as never)
          : Promise.reject(new Error('503 Service Unavailable')),
      informerFactory: factory,
      clock,
      random: () => 1,
      minRetryMs: 200,
      maxRetryMs: 5_000,
      onError: (_error, retryInMs) => delays.push(retryInMs),
    });
    await informer.start();
    expect(informer.hasSynced()).toBe(false);
    for (let i = 0; i < 7; i++) {
      clock.advance(delays.at(-1)!);
      await flush();
    }
    expect(informer.hasSynced()).toBe(false);
    expect(delays).toEqual([200, 400, 800, 1600, 3200, 5000, 5000, 5000]);
    expect(starts()).toBe(8);

    healthy = true;
    clock.advance(5000);
    await flush();
    expect(informer.hasSynced()).toBe(true);
    expect(informer.list()).toHaveLength(1);
    await informer.stop();
  });

  it('resets the backoff after a successful LIST and spreads retries with jitter', async () => {
    const clock = new FakeClock();
    const { factory } = fakeInformerFactory();
    let fail = true;
    const delays: number[] = [];
    const informer = startResilientInformer<KubernetesObject>({
      name: 'test',
      rest: {} as never,
      path: '/x',
      list: () =>
        fail ? Promise.reject(new Error('boom')) : Promise.resolve({ items: [] } as never),
      informerFactory: factory,
      clock,
      random: () => 0,
      minRetryMs: 1000,
      maxRetryMs: 60_000,
      onError: (_e, ms) => delays.push(ms),
    });
    await informer.start();
    clock.advance(delays.at(-1)!);
    await flush();
    expect(delays).toEqual([500, 1000]); // jitter floor: half the ceiling
    fail = false;
    clock.advance(1000);
    await flush();
    expect(informer.hasSynced()).toBe(true);
    fail = true;
    await informer.start(); // the watch broke and relists: the backoff starts over
    expect(delays.at(-1)).toBe(500);
    await informer.stop();
  });
});

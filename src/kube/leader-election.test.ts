import type { V1Lease } from '@kubernetes/client-node';
import { FakeClock } from '../runtime/clock.ts';
import { LeaderElector } from './leader-election.ts';
import type { LeaseClient } from './lease-client.ts';

/** One Lease in memory, with the apiserver's optimistic concurrency (409 on a stale write). */
class LeaseServer {
  lease: V1Lease | undefined;
  #version = 0;
  client(): LeaseClient & { hang: boolean; calls: number } {
    const read = (): V1Lease | undefined => this.lease && structuredClone(this.lease);
    const current = (): V1Lease | undefined => this.lease;
    const store = (lease: V1Lease): void => {
      this.lease = {
        ...lease,
        metadata: { ...lease.metadata, resourceVersion: String(++this.#version) },
      };
    };
    const gate = (signal: AbortSignal): Promise<void> =>
      new Promise((_, reject) =>
        signal.addEventListener('abort', () => reject(signal.reason as Error)),
      );
    const client = {
      hang: false,
      calls: 0,
      async read(signal: AbortSignal): Promise<V1Lease | undefined> {
        client.calls++;
        if (client.hang) await gate(signal);
        return read();
      },
      async create(spec: V1Lease['spec'], signal: AbortSignal): Promise<void> {
        client.calls++;
        if (client.hang) await gate(signal);
        if (current()) throw Object.assign(new Error('exists'), { code: 409 });
        store({ metadata: {}, spec });
      },
      async replace(lease: V1Lease, signal: AbortSignal): Promise<void> {
        client.calls++;
        if (client.hang) await gate(signal);
        if (lease.metadata?.resourceVersion !== current()?.metadata?.resourceVersion)
          throw Object.assign(new Error('conflict'), { code: 409 });
        store(lease);
      },
    };
    return client;
  }
}

const flush = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

function elector(
  clock: FakeClock,
  leases: LeaseClient,
  identity: string,
  log: string[],
): LeaderElector {
  return new LeaderElector({
    leases,
    namespace: 'ns',
    name: 'lease',
    identity,
    leaseDurationMs: 15_000,
    renewDeadlineMs: 10_000,
    retryPeriodMs: 2_000,
    clock,
    onStartedLeading: () => log.push(`${clock.now()} ${identity} started`),
    onStoppedLeading: () => log.push(`${clock.now()} ${identity} stopped`),
  });
}

describe('LeaderElector', () => {
  it('stops leading at the renew deadline while its Lease calls hang, before anyone else can lead', async () => {
    const clock = new FakeClock();
    const server = new LeaseServer();
    const clientA = server.client();
    const log: string[] = [];
    const a = elector(clock, clientA, 'a', log);
    const b = elector(clock, server.client(), 'b', log);
    a.start();
    await flush();
    clock.advance(1);
    await flush();
    expect(a.isLeader()).toBe(true);
    b.start();

    clientA.hang = true; // from now on every call of A's hangs (the apiserver stopped answering A)
    const hungAt = clock.now();
    let overlap = false;
    let aStoppedAt: number | undefined;
    for (let t = 0; t < 40_000; t += 100) {
      clock.advance(100);
      await flush();
      if (a.isLeader() && b.isLeader()) overlap = true;
      if (!a.isLeader() && aStoppedAt === undefined) aStoppedAt = clock.now();
    }
    expect(overlap).toBe(false);
    // A renewed last at most one retry period before the hang: it must be out by renewDeadline.
    expect(aStoppedAt! - hungAt).toBeLessThanOrEqual(10_000);
    expect(b.isLeader()).toBe(true);
    const bStarted = Number(log.find((l) => l.endsWith('b started'))!.split(' ')[0]);
    expect(bStarted).toBeGreaterThan(aStoppedAt!);
    await a.stop(false);
    await b.stop(false);
  });

  it('keeps leading while renewals succeed, and hands over at once when released', async () => {
    const clock = new FakeClock();
    const server = new LeaseServer();
    const log: string[] = [];
    const a = elector(clock, server.client(), 'a', log);
    const b = elector(clock, server.client(), 'b', log);
    a.start();
    await flush();
    clock.advance(1);
    await flush();
    b.start();
    for (let t = 0; t < 60_000; t += 500) {
      clock.advance(500);
      await flush();
    }
    expect(a.isLeader()).toBe(true);
    expect(b.isLeader()).toBe(false);
    const stopping = a.stop(true);
    await flush();
    await stopping;
    expect(server.lease?.spec?.holderIdentity).toBe('');
    for (let t = 0; t < 2_500; t += 500) {
      clock.advance(500);
      await flush();
    }
    expect(b.isLeader()).toBe(true);
    expect(log.filter((l) => l.includes('started'))).toHaveLength(2);
    await b.stop(false);
  });

  it('refuses a renew deadline that is not shorter than the lease', () => {
    expect(
      () =>
        new LeaderElector({
          leases: new LeaseServer().client(),
          namespace: 'ns',
          name: 'l',
          identity: 'x',
          leaseDurationMs: 5_000,
          renewDeadlineMs: 5_000,
          onStartedLeading: () => undefined,
          onStoppedLeading: () => undefined,
        }),
    ).toThrow(/renewDeadline/);
  });
});

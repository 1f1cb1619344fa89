import { createKubeClients, loadKubeConfig } from '../../src/kube/client.ts';
import { LeaderElector } from '../../src/kube/leader-election.ts';
import { createNamespace, testControlPlane } from '../support/cluster.ts';
import { loopbackProxy } from '../support/tcp-proxy.ts';

const cp = testControlPlane();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, check: () => boolean, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
  return Date.now() - started;
}

describe('leader election on a real Lease', () => {
  it('elects exactly one, hands over at once on release and after expiry on a crash', async () => {
    const namespace = await createNamespace(cp, 'lease');
    const kube = createKubeClients(loadKubeConfig(cp.kubeconfigPath));
    const leading = new Set<string>();
    let overlap = false;
    const make = (identity: string) =>
      new LeaderElector({
        rest: kube.rest,
        namespace,
        name: 'rrsa-operator-leader',
        identity,
        leaseDurationMs: 2000,
        renewDeadlineMs: 1500,
        retryPeriodMs: 200,
        onStartedLeading: () => {
          if (leading.size > 0) overlap = true;
          leading.add(identity);
        },
        onStoppedLeading: () => leading.delete(identity),
      });
    const a = make('a');
    const b = make('b');
    a.start();
    b.start();
    try {
      await until('a leader', () => leading.size === 1, 10_000);
      await sleep(1000);
      expect(leading.size).toBe(1);
      const first = a.isLeader() ? a : b;
      const second = first === a ? b : a;
      expect(second.isLeader()).toBe(false);

      await first.stop(true); // graceful: releases the Lease
      const handover = await until(
        'the other to lead after release',
        () => second.isLeader(),
        5_000,
      );
      expect(handover).toBeLessThan(1000); // ~ one retry period, not a lease duration

      const third = make('c');
      third.start();
      await second.stop(false); // crash: stops renewing without releasing
      const takeover = await until('c to lead after expiry', () => third.isLeader(), 10_000);
      expect(takeover).toBeGreaterThan(1000); // had to wait for the lease to expire
      await third.stop(true);
      expect(overlap).toBe(false);
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  it('a replica whose Lease calls hang stops leading before another can take over', async () => {
    const namespace = await createNamespace(cp, 'lease-hang');
    const direct = loadKubeConfig(cp.kubeconfigPath);
    const upstream = new URL(direct.getCurrentCluster()!.server);
    const proxy = await loopbackProxy(upstream.hostname, Number(upstream.port));
    const viaProxy = loadKubeConfig(cp.kubeconfigPath);
    viaProxy.clusters = viaProxy.clusters.map((c) => ({
      ...c,
      server: `https://${upstream.hostname}:${proxy.port}`,
    }));
    const leading = new Set<string>();
    let overlapMs = 0;
    const make = (identity: string, kc: typeof direct) =>
      new LeaderElector({
        rest: createKubeClients(kc).rest,
        namespace,
        name: 'rrsa-operator-leader',
        identity,
        leaseDurationMs: 3000,
        renewDeadlineMs: 2000,
        retryPeriodMs: 300,
        onStartedLeading: () => leading.add(identity),
        onStoppedLeading: () => leading.delete(identity),
      });
    const hung = make('hung', viaProxy);
    hung.start();
    await until('the proxied replica to lead', () => hung.isLeader(), 10_000);
    const other = make('other', direct);
    other.start();
    await sleep(1000);
    expect(other.isLeader()).toBe(false);
    proxy.freeze(); // the apiserver stops answering this replica: no error, no response
    const frozenAt = Date.now();
    const watcher = setInterval(() => {
      if (leading.size > 1) overlapMs += 10;
    }, 10);
    try {
      await until('the hung replica to stop leading', () => !hung.isLeader(), 5_000);
      const droppedAfter = Date.now() - frozenAt;
      await until('the other replica to lead', () => other.isLeader(), 10_000);
      expect(droppedAfter).toBeLessThanOrEqual(2000 + 500); // renew deadline (+ timer slack)
      expect(overlapMs).toBe(0);
    } finally {
      clearInterval(watcher);
      await hung.stop(false);
      await other.stop(true);
      await proxy.close();
    }
  });
});

import { createKubeClients, loadKubeConfig } from '../../src/kube/client.ts';
import { IDLE_SOCKETS_KEPT } from '../../src/kube/agents.ts';
import { startResilientInformer } from '../../src/kube/informer.ts';
import { readKubeTarget, targetTransport } from '../../src/kube/kubeconfig.ts';
import { KubeRest } from '../../src/kube/rest.ts';
import { testControlPlane } from '../support/cluster.ts';
import { http1Proxy } from '../support/http1-proxy.ts';
import { loopbackProxy } from '../support/tcp-proxy.ts';

const cp = testControlPlane();

describe('connections to the apiserver', () => {
  it('1000 sequential API calls share a handful of keep-alive connections', async () => {
    const kc = loadKubeConfig(cp.kubeconfigPath);
    const upstream = new URL(kc.getCurrentCluster()!.server);
    const proxy = await loopbackProxy(upstream.hostname, Number(upstream.port));
    kc.clusters = kc.clusters.map((c) => ({
      ...c,
      server: `https://${upstream.hostname}:${proxy.port}`,
    }));
    const { core } = createKubeClients(kc);
    try {
      for (let i = 0; i < 1000; i++) await core.readNamespace({ name: 'default' });
      // client-node 2.0.1 alone opened a new TLS connection for most of these (~595 per 1000).
      expect(proxy.connections()).toBeLessThanOrEqual(4);
    } finally {
      await proxy.close();
    }
  }, 120_000);
});

/** The five collections the manager watches stand in for its watches (same kind of stream). */
const WATCHED = [
  '/api/v1/namespaces',
  '/api/v1/serviceaccounts',
  '/api/v1/configmaps',
  '/api/v1/services',
  '/api/v1/pods',
];

/** The manager's REST client talking through a counting loopback proxy, with watches open. */
async function restBehindProxy(name: string, paths = WATCHED.slice(0, 1)) {
  const target = readKubeTarget(cp.kubeconfigPath)!;
  const upstream = new URL(target.server);
  const proxy = await loopbackProxy(upstream.hostname, Number(upstream.port));
  const rest = new KubeRest(
    targetTransport({ ...target, server: `https://${upstream.hostname}:${proxy.port}` }),
  );
  const informers = await startInformers(rest, name, paths);
  return { proxy, rest, informers };
}

async function startInformers(rest: KubeRest, name: string, paths: string[]) {
  const informers = paths.map((path, i) =>
    startResilientInformer({ name: `${name}-${i}`, rest, path }),
  );
  await Promise.all(informers.map((informer) => informer.start()));
  return {
    namespaces: informers[0]!,
    stop: () => Promise.all(informers.map((informer) => informer.stop())),
  };
}

describe("connections of the manager's REST client (HTTP/2)", () => {
  it('1000 sequential calls and a watch share one connection', async () => {
    const { proxy, rest, informers } = await restBehindProxy('connections-namespaces');
    try {
      for (let i = 0; i < 1000; i++) await rest.get('/api/v1/namespaces/default');
      expect(informers.namespaces.get('default')).toBeDefined();
      expect(proxy.connections()).toBe(1);
    } finally {
      await informers.stop();
      await proxy.close();
    }
  }, 120_000);

  it('five watches and a burst of 64 concurrent calls share one connection', async () => {
    const { proxy, rest, informers } = await restBehindProxy('connections-burst', WATCHED);
    try {
      const answers = await Promise.all(
        Array.from({ length: 64 }, () =>
          rest.get<{ metadata: { name: string } }>('/api/v1/namespaces/default'),
        ),
      );
      expect(answers.every((a) => a.metadata.name === 'default')).toBe(true);
      // HTTP/1.1 opened one connection per call in flight and kept 1 + IDLE_SOCKETS_KEPT after.
      expect(proxy.connections()).toBe(1);
      expect(proxy.open()).toBe(1);
      expect(informers.namespaces.get('default')).toBeDefined();
    } finally {
      await informers.stop();
      await proxy.close();
    }
  }, 120_000);
});

describe("connections of the manager's REST client (HTTP/1.1 fallback)", () => {
  it('behind a proxy that speaks only HTTP/1.1, a burst leaves the watch and a few idle connections', async () => {
    const target = readKubeTarget(cp.kubeconfigPath)!;
    const proxy = await http1Proxy({ server: target.server, caPem: cp.caPem });
    const rest = new KubeRest(
      targetTransport({
        server: `https://127.0.0.1:${proxy.port}`,
        tls: { ca: Buffer.from(proxy.caPem) },
        token: cp.token,
      }),
    );
    const informers = await startInformers(rest, 'connections-http1', WATCHED.slice(0, 1));
    try {
      await Promise.all(Array.from({ length: 64 }, () => rest.get('/api/v1/namespaces/default')));
      // The burst needed more than the steady state (calls in flight at once)...
      expect(proxy.connections()).toBeGreaterThan(1 + IDLE_SOCKETS_KEPT);
      // ...and the surplus is closed once the calls are done (the close reaches the proxy
      // asynchronously).
      const deadline = Date.now() + 5000;
      while (proxy.open() > 1 + IDLE_SOCKETS_KEPT && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(proxy.open()).toBeLessThanOrEqual(1 + IDLE_SOCKETS_KEPT);
      expect(informers.namespaces.get('default')).toBeDefined();
    } finally {
      await informers.stop();
      await proxy.close();
    }
  }, 120_000);
});

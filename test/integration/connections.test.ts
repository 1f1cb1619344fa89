import { createKubeClients, loadKubeConfig } from '../../src/kube/client.ts';
import { IDLE_SOCKETS_KEPT } from '../../src/kube/agents.ts';
import { startResilientInformer } from '../../src/kube/informer.ts';
import { readKubeTarget, targetTransport } from '../../src/kube/kubeconfig.ts';
import { KubeRest } from '../../src/kube/rest.ts';
import { testControlPlane } from '../support/cluster.ts';
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

/** The manager's REST client talking through a counting loopback proxy, with a watch open. */
async function restBehindProxy(name: string) {
  const target = readKubeTarget(cp.kubeconfigPath)!;
  const upstream = new URL(target.server);
  const proxy = await loopbackProxy(upstream.hostname, Number(upstream.port));
  const rest = new KubeRest(
    targetTransport({ ...target, server: `https://${upstream.hostname}:${proxy.port}` }),
  );
  const informer = startResilientInformer({ name, rest, path: '/api/v1/namespaces' });
  await informer.start();
  return { proxy, rest, informer };
}

describe("connections of the manager's REST client", () => {
  it('1000 sequential calls and a watch share a handful of keep-alive connections', async () => {
    const { proxy, rest, informer } = await restBehindProxy('connections-namespaces');
    try {
      for (let i = 0; i < 1000; i++) await rest.get('/api/v1/namespaces/default');
      expect(informer.get('default')).toBeDefined();
      // One for the watch, one (rarely two) for the calls.
      expect(proxy.connections()).toBeLessThanOrEqual(4);
    } finally {
      await informer.stop();
      await proxy.close();
    }
  }, 120_000);

  it('after a burst of 64 concurrent calls, only the watch and a few idle connections stay open', async () => {
    const { proxy, rest, informer } = await restBehindProxy('connections-burst');
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
      expect(informer.get('default')).toBeDefined();
    } finally {
      await informer.stop();
      await proxy.close();
    }
  }, 120_000);
});

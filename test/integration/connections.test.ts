import { createKubeClients, loadKubeConfig } from '../../src/kube/client.ts';
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

import { createServer, connect, type Socket } from 'node:net';
import { createKubeClients, loadKubeConfig } from '../../src/kube/client.ts';
import { testControlPlane } from '../support/cluster.ts';

const cp = testControlPlane();

/** A loopback TCP proxy in front of the apiserver that counts the connections made through it. */
async function countingProxy(host: string, port: number) {
  let connections = 0;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    connections++;
    const upstream = connect(port, host);
    sockets.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    connections: () => connections,
    close: async (): Promise<void> => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

describe('connections to the apiserver', () => {
  it('1000 sequential API calls share a handful of keep-alive connections', async () => {
    const kc = loadKubeConfig(cp.kubeconfigPath);
    const upstream = new URL(kc.getCurrentCluster()!.server);
    const proxy = await countingProxy(upstream.hostname, Number(upstream.port));
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

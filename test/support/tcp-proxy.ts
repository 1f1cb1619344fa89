import { createServer, connect, type Socket } from 'node:net';

/**
 * A loopback TCP proxy in front of the apiserver for tests: it counts the connections made
 * through it, and `freeze()` makes it stop forwarding (connections stay open, nothing more gets
 * through, new ones are accepted and never answered), as an apiserver that stopped answering.
 */
export async function loopbackProxy(
  host: string,
  port: number,
): Promise<{
  port: number;
  connections(): number;
  open(): number;
  freeze(): void;
  close(): Promise<void>;
}> {
  let frozen = false;
  let connections = 0;
  const clients = new Set<Socket>();
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    connections++;
    sockets.add(client);
    clients.add(client);
    client.on('close', () => clients.delete(client));
    if (frozen) return;
    const target = connect(port, host);
    sockets.add(target);
    // Forward each write at once: Nagle on either leg delays the small frames HTTP/2 sends
    // one after another by a delayed ACK (~40 ms a call).
    client.setNoDelay(true);
    target.setNoDelay(true);
    client.on('data', (d) => (frozen ? undefined : target.write(d)));
    target.on('data', (d) => (frozen ? undefined : client.write(d)));
    const end = (): void => {
      client.destroy();
      target.destroy();
    };
    client.on('error', end).on('close', end);
    target.on('error', end).on('close', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    connections: () => connections,
    open: () => clients.size,
    freeze: () => (frozen = true),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

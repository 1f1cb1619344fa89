import { createServer } from 'node:net';

/**
 * A port the kernel says is free on 127.0.0.1 right now. Another process can still take it
 * before our child binds it; callers that spawn servers retry the whole start on a bind error.
 */
export async function findFreePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not read the bound port'));
      });
    });
  });
}

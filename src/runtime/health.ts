import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export type Check = () => boolean;

/**
 * /healthz (liveness: the process answers), /readyz (every named check passes; a 503 names the
 * failing ones) and, when given a registry, /metrics.
 */
export class HealthServer {
  readonly #checks = new Map<string, Check>();
  readonly #registry: Registry | undefined;
  #server: Server | undefined;

  constructor(registry?: Registry) {
    this.#registry = registry;
  }

  addReadyCheck(name: string, check: Check): void {
    this.#checks.set(name, check);
  }

  failingChecks(): string[] {
    return [...this.#checks].filter(([, check]) => !safe(check)).map(([name]) => name);
  }

  async listen(port: number, host = '0.0.0.0'): Promise<number> {
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (path === '/healthz') return void res.writeHead(200).end('ok');
      if (path === '/readyz') {
        const failing = this.failingChecks();
        if (failing.length === 0) return void res.writeHead(200).end('ok');
        return void res.writeHead(503).end(`not ready: ${failing.join(', ')}`);
      }
      if (path === '/metrics' && this.#registry) {
        const registry = this.#registry;
        registry.metrics().then(
          (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body),
          (error: unknown) => res.writeHead(500).end(String(error)),
        );
        return;
      }
      res.writeHead(404).end('not found');
    });
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    return (server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

function safe(check: Check): boolean {
  try {
    return check();
  } catch {
    return false;
  }
}

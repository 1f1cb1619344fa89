import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { targetTransport } from './kubeconfig.ts';
import { KubeRest } from './rest.ts';

/** A loopback server that answers /ok at once and never answers /hang. */
async function server(): Promise<{ url: string; close: () => Promise<void> }> {
  const s = createServer((req, res) => {
    if (req.url === '/ok') res.end('{"ok":true}');
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`,
    close: () =>
      new Promise((r) => {
        s.closeAllConnections();
        s.close(() => r());
      }),
  };
}

describe('KubeRest default deadline', () => {
  it('answers calls within the deadline and ends an unanswered one with a TimeoutError', async () => {
    const s = await server();
    try {
      const rest = new KubeRest(targetTransport({ server: s.url, tls: {} }), 200);
      for (let i = 0; i < 20; i++) await expect(rest.get('/ok')).resolves.toEqual({ ok: true });
      // The deadlines of the answered calls were cleared: none fires into a later call.
      await new Promise((r) => setTimeout(r, 250));
      await expect(rest.get('/ok')).resolves.toEqual({ ok: true });
      const started = Date.now();
      const error = (await rest.get('/hang').catch((e: unknown) => e)) as Error & { cause?: Error };
      // node:http wraps the signal's reason: an AbortError whose cause is the TimeoutError.
      expect((error.cause ?? error).name).toBe('TimeoutError');
      expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    } finally {
      await s.close();
    }
  });
});

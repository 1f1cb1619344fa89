import { Registry } from 'prom-client';
import { HealthServer } from './health.ts';
import { createControllerMetrics } from './metrics.ts';

describe('HealthServer', () => {
  it('serves liveness, readiness naming failing checks, and metrics over a real socket', async () => {
    const metrics = createControllerMetrics(new Registry());
    metrics.cloudCalls.inc({ service: 'ram', action: 'GetRole', code: 'OK' });
    const server = new HealthServer(metrics.registry);
    let synced = false;
    server.addReadyCheck('informers-synced', () => synced);
    server.addReadyCheck('throws', () => {
      throw new Error('x');
    });
    const port = await server.listen(0, '127.0.0.1');
    try {
      const get = async (path: string) => {
        const res = await fetch(`http://127.0.0.1:${port}${path}`);
        return { status: res.status, body: await res.text() };
      };
      expect(await get('/healthz')).toEqual({ status: 200, body: 'ok' });
      expect(await get('/readyz')).toEqual({
        status: 503,
        body: 'not ready: informers-synced, throws',
      });
      synced = true;
      server.addReadyCheck('throws', () => true);
      expect((await get('/readyz')).status).toBe(200);
      expect((await get('/metrics')).body).toContain(
        'rrsa_cloud_calls_total{service="ram",action="GetRole",code="OK"} 1',
      );
      expect((await get('/nope')).status).toBe(404);
    } finally {
      await server.close();
    }
  });
});

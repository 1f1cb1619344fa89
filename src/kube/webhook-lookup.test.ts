import type { V1Namespace, V1ServiceAccount } from '@kubernetes/client-node';
import type { ResilientInformer } from './informer.ts';
import { KubeApiError, type KubeRest } from './rest.ts';
import { startWebhookLookup } from './webhook-lookup.ts';

/** An informer the manager owns: an in-memory cache that records start and stop. */
function sharedInformer<T extends { metadata?: { name?: string; namespace?: string } }>(
  objects: T[],
): ResilientInformer<T> & { calls: string[] } {
  const calls: string[] = [];
  const key = (name: string, namespace?: string) => `${namespace ?? ''}/${name}`;
  const byKey = new Map(
    objects.map((o) => [key(o.metadata?.name ?? '', o.metadata?.namespace), o]),
  );
  return {
    calls,
    get: (name, namespace) => byKey.get(key(name, namespace)),
    list: () => [...byKey.values()],
    byIndex: () => [],
    hasSynced: () => true,
    start: () => {
      calls.push('start');
      return Promise.resolve();
    },
    stop: () => {
      calls.push('stop');
      return Promise.resolve();
    },
  };
}

describe("startWebhookLookup over the manager's shared informers", () => {
  it('neither starts nor stops them, answers namespaces from the cache, and GETs once on a miss', async () => {
    const gets: string[] = [];
    const rest = {
      get: (path: string) => {
        gets.push(path);
        return path === '/api/v1/namespaces/fresh'
          ? Promise.resolve({ metadata: { name: 'fresh', labels: { team: 'x' } } })
          : Promise.reject(new KubeApiError(404, {}, {}, path));
      },
    } as unknown as KubeRest;
    const namespaces = sharedInformer<V1Namespace>([
      { metadata: { name: 'team-a', labels: { 'pod-identity.alibabacloud.com/injection': 'on' } } },
    ]);
    const serviceAccounts = sharedInformer<V1ServiceAccount>([]);
    const lookup = await startWebhookLookup({ rest }, { namespaces, serviceAccounts });

    expect(await lookup.namespace('team-a')).toEqual({
      metadata: { name: 'team-a', labels: { 'pod-identity.alibabacloud.com/injection': 'on' } },
    });
    expect(gets).toEqual([]);
    expect(await lookup.namespace('fresh')).toEqual({
      metadata: { name: 'fresh', labels: { team: 'x' } },
    });
    expect(gets).toEqual(['/api/v1/namespaces/fresh']);
    expect(await lookup.namespace('gone')).toBeUndefined();
    expect(lookup.hasSynced()).toBe(true);

    await lookup.stop();
    expect(namespaces.calls).toEqual([]);
    expect(serviceAccounts.calls).toEqual([]);
  });
});

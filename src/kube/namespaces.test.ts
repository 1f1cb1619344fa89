import type { V1Namespace } from '@kubernetes/client-node';
import type { ObjectStore } from './informer.ts';
import {
  NamespaceClient,
  namespaceLabels,
  namespaceOptIn,
  projectNamespace,
} from './namespaces.ts';
import { KubeApiError, type KubeRest } from './rest.ts';

const LABEL = 'pod-identity.alibabacloud.com/injection';

/** An informer cache stand-in: a map by name (Namespaces are cluster-scoped). */
function fakeStore(namespaces: V1Namespace[] = []): ObjectStore<V1Namespace> & {
  put(ns: V1Namespace): void;
} {
  const byName = new Map(namespaces.map((ns) => [ns.metadata?.name ?? '', ns]));
  return {
    get: (name) => byName.get(name),
    list: () => [...byName.values()],
    hasSynced: () => true,
    put: (ns) => byName.set(ns.metadata?.name ?? '', ns),
  };
}

/** The apiserver side: counts every direct GET and answers from `live` (404 when absent). */
function countingRest(live: Record<string, Record<string, string>>, failWith?: Error) {
  const gets: string[] = [];
  const rest: Pick<KubeRest, 'get'> = {
    get: <T>(path: string): Promise<T> => {
      gets.push(path);
      if (failWith) return Promise.reject(failWith);
      const name = decodeURIComponent(path.split('/').pop() ?? '');
      const labels = live[name];
      if (!labels) return Promise.reject(new KubeApiError(404, {}, {}, `GET ${path}`));
      return Promise.resolve({ metadata: { name, resourceVersion: '7', labels } } as T);
    },
  };
  return { rest, gets };
}

const ns = (name: string, labels: Record<string, string>): V1Namespace => ({
  metadata: { name, resourceVersion: '1', labels },
});

describe('NamespaceClient over the shared cache', () => {
  it('answers a cached namespace with no direct GET, and a copy the caller may change', async () => {
    const store = fakeStore([ns('team-a', { [LABEL]: 'on' })]);
    const { rest, gets } = countingRest({ 'team-a': { [LABEL]: 'off' } });
    const client = new NamespaceClient(rest, store);
    const view = await client.read('team-a');
    expect(view).toEqual({ name: 'team-a', labels: { [LABEL]: 'on' } });
    view!.labels.x = 'y';
    expect(store.get('team-a')?.metadata?.labels).toEqual({ [LABEL]: 'on' });
    expect(gets).toEqual([]);
  });

  it('falls back to exactly one direct GET on a miss (created a moment ago), and reads the cache once it has it', async () => {
    const store = fakeStore();
    const { rest, gets } = countingRest({ fresh: { team: 'x' } });
    const client = new NamespaceClient(rest, store);
    expect(await client.read('fresh')).toEqual({ name: 'fresh', labels: { team: 'x' } });
    expect(gets).toEqual(['/api/v1/namespaces/fresh']);
    store.put(ns('fresh', { team: 'x' }));
    await client.read('fresh');
    expect(gets).toHaveLength(1);
  });

  it('says undefined for a namespace that does not exist and throws any other failure', async () => {
    const missing = new NamespaceClient(countingRest({}).rest, fakeStore());
    expect(await missing.read('gone')).toBeUndefined();
    const failing = new NamespaceClient(
      countingRest({}, new KubeApiError(503, {}, {}, 'GET')).rest,
      fakeStore(),
    );
    await expect(failing.read('any')).rejects.toMatchObject({ code: 503 });
  });

  it('bounds the fallback GET', async () => {
    const rest: Pick<KubeRest, 'get'> = { get: () => new Promise(() => undefined) };
    const client = new NamespaceClient(rest, fakeStore());
    await expect(client.read('slow', 20)).rejects.toThrow(/GET namespace slow/);
  });
});

describe("the controller's namespace reads", () => {
  it('opt-in: from the cache with no GET; undefined when unreadable, so Ready keeps its message', async () => {
    const { rest, gets } = countingRest({});
    const optIn = namespaceOptIn(
      new NamespaceClient(rest, fakeStore([ns('on', { [LABEL]: 'on' }), ns('off', {})])),
      LABEL,
    );
    expect(await optIn.injectionEnabled('on')).toBe(true);
    expect(await optIn.injectionEnabled('off')).toBe(false);
    expect(gets).toEqual([]);
    expect(await optIn.injectionEnabled('gone')).toBeUndefined();
    expect(gets).toEqual(['/api/v1/namespaces/gone']);
    const broken = namespaceOptIn(
      new NamespaceClient(countingRest({}, new Error('connection reset')).rest, fakeStore()),
      LABEL,
    );
    expect(await broken.injectionEnabled('x')).toBeUndefined();
  });

  it('routing labels: from the cache with no GET; undefined when unreadable', async () => {
    const { rest, gets } = countingRest({ fresh: { tier: 'b' } });
    const labels = namespaceLabels(new NamespaceClient(rest, fakeStore([ns('a', { tier: 'a' })])));
    expect(await labels('a')).toEqual({ tier: 'a' });
    expect(gets).toEqual([]);
    expect(await labels('fresh')).toEqual({ tier: 'b' });
    expect(gets).toHaveLength(1);
    expect(await labels('gone')).toBeUndefined();
    const broken = namespaceLabels(
      new NamespaceClient(countingRest({}, new Error('reset')).rest, fakeStore()),
    );
    expect(await broken('x')).toBeUndefined();
  });
});

describe('projectNamespace', () => {
  it('keeps name, resourceVersion and labels only', () => {
    expect(
      projectNamespace({
        metadata: {
          name: 'n',
          resourceVersion: '3',
          labels: { a: 'b' },
          annotations: { big: 'x'.repeat(100) },
          uid: 'u',
          managedFields: [{ manager: 'kubectl' }],
        },
        spec: { finalizers: ['kubernetes'] },
      }),
    ).toEqual({ metadata: { name: 'n', resourceVersion: '3', labels: { a: 'b' } } });
  });
});

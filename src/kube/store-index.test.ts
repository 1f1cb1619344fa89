import type { KubernetesObject } from '@kubernetes/client-node';
import { startResilientInformer, type InformerFactory, type InformerLike } from './informer.ts';
import { StoreIndex } from './store-index.ts';

interface Item {
  ns: string;
  name: string;
  sa: string;
}
const bySa = (item: Item): string[] => [`${item.ns}/${item.sa}`];

describe('StoreIndex', () => {
  it('files an object under its keys and finds only the matches', () => {
    const index = new StoreIndex(bySa);
    index.set('a/b1', { ns: 'a', name: 'b1', sa: 'x' });
    index.set('a/b2', { ns: 'a', name: 'b2', sa: 'y' });
    index.set('a/b3', { ns: 'a', name: 'b3', sa: 'x' });
    index.set('c/b1', { ns: 'c', name: 'b1', sa: 'x' });
    expect(
      index
        .get('a/x')
        .map((i) => i.name)
        .sort(),
    ).toEqual(['b1', 'b3']);
    expect(index.get('a/y').map((i) => i.name)).toEqual(['b2']);
    expect(index.get('c/x')).toHaveLength(1);
    expect(index.get('a/z')).toEqual([]);
  });

  it('re-files an object whose key changed, and forgets empty keys on delete', () => {
    const index = new StoreIndex(bySa);
    index.set('a/b1', { ns: 'a', name: 'b1', sa: 'x' });
    index.set('a/b1', { ns: 'a', name: 'b1', sa: 'y' });
    expect(index.get('a/x')).toEqual([]);
    expect(index.get('a/y')).toEqual([{ ns: 'a', name: 'b1', sa: 'y' }]);
    expect(index.size).toBe(1);
    index.delete('a/b1');
    index.delete('a/b1');
    expect(index.get('a/y')).toEqual([]);
    expect(index.size).toBe(0);
  });

  it('files an object once under a key its function returns twice, and under none for []', () => {
    const index = new StoreIndex((item: Item) => (item.sa ? [item.sa, item.sa] : []));
    index.set('a/b1', { ns: 'a', name: 'b1', sa: 'x' });
    index.set('a/b2', { ns: 'a', name: 'b2', sa: '' });
    expect(index.get('x')).toHaveLength(1);
    expect(index.size).toBe(1);
    index.delete('a/b2');
    expect(index.get('x')).toHaveLength(1);
  });

  it('returns a fresh array each time (callers may keep or change it)', () => {
    const index = new StoreIndex(bySa);
    index.set('a/b1', { ns: 'a', name: 'b1', sa: 'x' });
    const first = index.get('a/x');
    first.length = 0;
    expect(index.get('a/x')).toHaveLength(1);
  });
});

type Obj = KubernetesObject & { spec: { sa: string } };

/** A ListWatch stand-in whose events the test fires by hand. */
function manualInformer(): {
  factory: InformerFactory;
  fire: (verb: 'add' | 'update' | 'delete', object: Obj) => void;
} {
  const handlers: Record<string, ((x: unknown) => void)[]> = {};
  const factory = (() =>
    ({
      on: (event: string, cb: (x: never) => void) => {
        (handlers[event] ??= []).push(cb as (x: unknown) => void);
      },
      start: () => Promise.resolve(),
      stop: () => Promise.resolve(),
      get: () => undefined,
      list: () => [],
    }) satisfies InformerLike<Obj>) as unknown as InformerFactory;
  return {
    factory,
    fire: (verb, object) => {
      for (const cb of handlers[verb] ?? []) cb(object);
    },
  };
}

const obj = (name: string, sa: string, rv: string): Obj => ({
  metadata: { namespace: 'n', name, resourceVersion: rv },
  spec: { sa },
});

describe('startResilientInformer indexes', () => {
  it('keeps byIndex in step with add, update and delete, before onEvent runs', async () => {
    const { factory, fire } = manualInformer();
    const seenByHandler: string[][] = [];
    const informer = startResilientInformer<Obj>({
      name: 'test',
      rest: {} as never,
      path: '/x',
      list: () => Promise.resolve({ items: [] }),
      informerFactory: factory,
      indexes: { sa: (o) => [`${o.metadata?.namespace}/${o.spec.sa}`] },
      onEvent: () =>
        seenByHandler.push(informer.byIndex('sa', 'n/x').map((o) => o.metadata?.name ?? '')),
    });
    await informer.start();
    fire('add', obj('b1', 'x', '1'));
    fire('add', obj('b2', 'x', '1'));
    fire('update', obj('b1', 'y', '2'));
    expect(informer.byIndex('sa', 'n/y').map((o) => o.metadata?.name)).toEqual(['b1']);
    fire('delete', obj('b2', 'x', '3'));
    expect(informer.byIndex('sa', 'n/x')).toEqual([]);
    // Each handler saw the index after its own event had been filed.
    expect(seenByHandler).toEqual([['b1'], ['b1', 'b2'], ['b2'], []]);
    await informer.stop();
  });

  it('names the informer and the index when asked for one it does not have', () => {
    const { factory } = manualInformer();
    const informer = startResilientInformer<Obj>({
      name: 'bindings',
      rest: {} as never,
      path: '/x',
      informerFactory: factory,
    });
    expect(() => informer.byIndex('sa', 'n/x')).toThrow('informer bindings has no index "sa"');
  });
});

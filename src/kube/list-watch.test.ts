import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { targetTransport } from './kubeconfig.ts';
import { ListWatch } from './list-watch.ts';
import { KubeRest } from './rest.ts';

interface Obj {
  metadata: { name: string; namespace: string; resourceVersion: string };
}
const obj = (name: string, rv: string): Obj => ({
  metadata: { name, namespace: 'n', resourceVersion: rv },
});

/** A loopback apiserver stand-in: scripted list answers and watch streams. */
async function fakeApiserver(script: {
  lists: { items: Obj[]; rv: string }[];
  watches: ((res: ServerResponse, query: URLSearchParams) => void)[];
}) {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    seen.push(
      `${url.searchParams.get('watch') ? 'watch' : 'list'} rv=${url.searchParams.get('resourceVersion') ?? ''}`,
    );
    if (url.searchParams.get('watch')) {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      script.watches.shift()!(res, url.searchParams);
      return;
    }
    const list = script.lists.shift()!;
    res.end(JSON.stringify({ items: list.items, metadata: { resourceVersion: list.rv } }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const rest = new KubeRest(targetTransport({ server: `http://127.0.0.1:${port}`, tls: {} }));
  return { rest, seen, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const line = (res: ServerResponse, event: object): boolean =>
  res.write(`${JSON.stringify(event)}\n`);

describe('ListWatch', () => {
  it('lists, watches from the list, resumes after the server ends a watch, relists on 410 with a diff', async () => {
    const api = await fakeApiserver({
      lists: [
        { items: [obj('a', '1'), obj('b', '2')], rv: '10' },
        { items: [obj('a', '12')], rv: '13' },
      ],
      watches: [
        (res) => {
          line(res, { type: 'MODIFIED', object: obj('a', '11') });
          res.end(); // the apiserver's timeoutSeconds: resume from rv 11
        },
        (res) => {
          line(res, { type: 'ERROR', object: { kind: 'Status', code: 410 } });
          res.end();
        },
        () => undefined, // held open until stop()
      ],
    });
    const events: string[] = [];
    const lw = new ListWatch<Obj>(api.rest, '/api/v1/things', () => api.rest.get('/api/v1/things'));
    for (const verb of ['add', 'update', 'delete'] as const)
      lw.on(verb, (o, previous) =>
        events.push(
          `${verb} ${o.metadata.name}@${o.metadata.resourceVersion}` +
            (previous ? ` was @${previous.metadata.resourceVersion}` : ''),
        ),
      );
    await lw.start();
    expect(lw.list('n').map((o) => o.metadata.name)).toEqual(['a', 'b']);
    for (let i = 0; i < 100 && api.seen.length < 5; i++)
      await new Promise((r) => setTimeout(r, 20));
    await lw.stop();
    await api.close();
    expect(api.seen).toEqual(['list rv=', 'watch rv=10', 'watch rv=11', 'list rv=', 'watch rv=13']);
    // An update hands over the object it replaced (the Namespace cache diffs labels with it).
    expect(events).toEqual([
      'add a@1',
      'add b@2',
      'update a@11 was @1',
      'update a@12 was @11',
      'delete b@2',
    ]);
    expect(lw.get('b', 'n')).toBeUndefined();
    expect(lw.get('a', 'n')?.metadata.resourceVersion).toBe('12');
  });

  it('a failed list goes to error listeners and start() still resolves', async () => {
    const rest = new KubeRest(targetTransport({ server: 'http://127.0.0.1:1', tls: {} }));
    const errors: unknown[] = [];
    const lw = new ListWatch<Obj>(rest, '/x', () => rest.get('/x'));
    lw.on('error', (e) => errors.push(e));
    await lw.start();
    expect(errors).toHaveLength(1);
    expect(lw.list()).toEqual([]);
  });
});

import { connect, createSecureServer, type Http2Session, type ServerHttp2Stream } from 'node:http2';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { createCertificateAuthority, issueCertificate } from '../webhook/certs/pki.ts';
import { pingSession } from './http2-sessions.ts';
import { KubeRest, type KubeTransport } from './rest.ts';

const ca = createCertificateAuthority('test-ca');
const serving = issueCertificate(ca, { commonName: 'localhost', ipAddresses: ['127.0.0.1'] });

type Handler = (stream: ServerHttp2Stream, path: string) => void;

/** A loopback HTTP/2 apiserver stand-in that counts TCP connections and sessions. */
async function h2Server(handler: Handler, maxConcurrentStreams?: number) {
  const sessions: Http2Session[] = [];
  const resets: number[] = [];
  const server = createSecureServer({
    key: serving.keyPem,
    cert: serving.certPem,
    ...(maxConcurrentStreams ? { settings: { maxConcurrentStreams } } : {}),
  });
  server.on('session', (session) => sessions.push(session));
  server.on('stream', (stream, headers) => {
    stream.on('close', () => resets.push(stream.rstCode));
    handler(stream, headers[':path']!);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    sessions,
    resets,
    close: () => {
      for (const s of sessions) s.destroy();
      return new Promise((r) => server.close(r));
    },
  };
}

function restTo(port: number): KubeRest {
  const transport: KubeTransport = {
    server: `https://127.0.0.1:${port}`,
    prepare: () => Promise.resolve({ tls: { ca: Buffer.from(ca.certPem) }, headers: {} }),
  };
  return new KubeRest(transport, 5_000);
}

/** GET answers {path}; /watch streams a line now and then stays open. */
const apiserver: Handler = (stream, path) => {
  stream.respond({ ':status': 200, 'content-type': 'application/json' });
  if (path.startsWith('/watch')) stream.write('{"type":"ADDED"}\n');
  else stream.end(JSON.stringify({ path }));
};

const lines = async (body: Readable) => {
  const seen: string[] = [];
  for await (const line of createInterface({ input: body })) seen.push(line);
  return seen;
};

describe('KubeRest over HTTP/2', () => {
  it('sends concurrent requests and watches as streams on one session', async () => {
    const server = await h2Server(apiserver);
    const rest = restTo(server.port);
    const stop = new AbortController();
    try {
      const watches = await Promise.all(
        [1, 2, 3, 4, 5].map((i) => rest.stream(`/watch/${i}`, {}, stop.signal)),
      );
      const answers = await Promise.all(
        Array.from({ length: 64 }, (_, i) => rest.get<{ path: string }>(`/get/${i}`)),
      );
      expect(answers[63]).toEqual({ path: '/get/63' });
      expect(server.sessions).toHaveLength(1);
      stop.abort();
      await Promise.all(watches.map((w) => lines(w).catch(() => undefined)));
    } finally {
      await server.close();
    }
  });

  it('resets an aborted stream with CANCEL and fails its body', async () => {
    const server = await h2Server(apiserver);
    const rest = restTo(server.port);
    try {
      const abort = new AbortController();
      const watch = await rest.stream('/watch/a', {}, abort.signal);
      const reading = lines(watch);
      abort.abort();
      await expect(reading).rejects.toThrow(/abort/i);
      await eventually(() => expect(server.resets).toContain(8)); // NGHTTP2_CANCEL
    } finally {
      await server.close();
    }
  });

  it('rejects a request aborted before any answer with the reason, and leaves no unhandled error', async () => {
    // The server never answers (a frozen apiserver): the caller's deadline ends the request.
    const server = await h2Server(() => undefined);
    const rest = restTo(server.port);
    const unhandled: unknown[] = [];
    const onUncaught = (error: unknown): void => void unhandled.push(error);
    process.on('uncaughtException', onUncaught);
    try {
      const abort = new AbortController();
      const call = rest.get('/hangs', { signal: abort.signal });
      await eventually(() => expect(server.sessions).toHaveLength(1));
      abort.abort(new Error('renew deadline passed'));
      await expect(call).rejects.toThrow('renew deadline passed');
      await eventually(() => expect(server.resets).toContain(8)); // NGHTTP2_CANCEL
      await new Promise((r) => setTimeout(r, 50));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('uncaughtException', onUncaught);
      await server.close();
    }
  });

  it('fails an in-flight watch when the session is lost, and opens a new one for the next call', async () => {
    const server = await h2Server(apiserver);
    const rest = restTo(server.port);
    try {
      const watch = await rest.stream('/watch/b', {}, new AbortController().signal);
      const reading = lines(watch);
      await eventually(() => expect(server.sessions).toHaveLength(1));
      server.sessions[0]!.destroy(); // the apiserver went away mid-watch
      // Node would end the cut stream as if complete; the body must fail instead.
      await expect(reading).rejects.toThrow(/reset|closed/);
      expect(await rest.get('/get/again')).toEqual({ path: '/get/again' });
      expect(server.sessions).toHaveLength(2);
    } finally {
      await server.close();
    }
  });

  it('after GOAWAY, sends new requests on a new session while the old streams finish', async () => {
    const server = await h2Server(apiserver);
    const rest = restTo(server.port);
    try {
      await rest.get('/get/1');
      server.sessions[0]!.goaway();
      await new Promise((r) => setTimeout(r, 50));
      expect(await rest.get('/get/2')).toEqual({ path: '/get/2' });
      expect(server.sessions).toHaveLength(2);
    } finally {
      await server.close();
    }
  });

  it("opens a second session when the server's stream limit is reached", async () => {
    const server = await h2Server(apiserver, 2);
    const rest = restTo(server.port);
    const stop = new AbortController();
    try {
      await rest.get('/get/settings'); // the server's SETTINGS arrive with the first answer
      const watches = await Promise.all(
        [1, 2].map((i) => rest.stream(`/watch/${i}`, {}, stop.signal)),
      );
      expect(await rest.get('/get/3')).toEqual({ path: '/get/3' });
      expect(server.sessions).toHaveLength(2);
      stop.abort();
      await Promise.all(watches.map((w) => lines(w).catch(() => undefined)));
      // Once idle again, the surplus session is closed; one stays.
      await eventually(() => expect(server.sessions.filter((s) => !s.closed)).toHaveLength(1));
    } finally {
      await server.close();
    }
  });

  it('falls back to HTTP/1.1 when the server does not negotiate h2', async () => {
    let connections = 0;
    const server = createHttpsServer({ key: serving.keyPem, cert: serving.certPem }, (_, res) =>
      res.end('{"http":1}'),
    );
    server.on('connection', () => connections++);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const rest = restTo((server.address() as AddressInfo).port);
    try {
      for (let i = 0; i < 5; i++) expect(await rest.get('/x')).toEqual({ http: 1 });
      // One ALPN probe, then the keep-alive agent's one connection.
      expect(connections).toBe(2);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});

async function eventually(check: () => void, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

describe('pingSession', () => {
  it('sends a PING on a live session, and neither throws nor sends on a destroyed one', async () => {
    const server = await h2Server(apiserver);
    const session = connect(`https://127.0.0.1:${server.port}`, { ca: ca.certPem });
    try {
      await new Promise<void>((resolve, reject) => {
        session.once('connect', () => resolve());
        session.once('error', reject);
      });
      const acked = new Promise<void>((resolve) =>
        expect(pingSession(session, resolve)).toBe(true),
      );
      await acked;
      session.destroy();
      // The state a health tick can meet before the session's 'close' event: session.ping()
      // itself throws ERR_HTTP2_INVALID_SESSION here.
      expect(() => session.ping(() => undefined)).toThrow();
      expect(pingSession(session, () => undefined)).toBe(false);
    } finally {
      session.destroy();
      await server.close();
    }
  });
});

import {
  createServer as createHttpServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import type { TlsMaterial } from './certs.ts';

/**
 * The listening socket. With TLS on, one port speaks both HTTP and HTTPS: the first byte of a
 * connection (0x16 opens a TLS handshake) picks the server. That lets the SDK clients use
 * `protocol: 'http'` while @alicloud/credentials, which hard-codes https for STS, reaches the
 * same `127.0.0.1:PORT`.
 */

/** Request lines of up to 64 KiB: a 6,144-character policy is ~10.5 KB URL-encoded (§2.7). */
export const MAX_HEADER_SIZE = 65536;
const MAX_BODY = 2 * 1024 * 1024;
const KEEP_ALIVE_MS = 10 * 60 * 1000;

export interface RawRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

export type RequestHandler = (request: RawRequest) => Promise<RawResponse>;

export interface ListeningServer {
  host: string;
  port: number;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new Error('request body too large'));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, response: RawResponse): void {
  const text = typeof response.body === 'string' ? response.body : JSON.stringify(response.body);
  res.writeHead(response.status, {
    'content-type':
      typeof response.body === 'string'
        ? 'text/plain; charset=utf-8'
        : 'application/json;charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...response.headers,
  });
  res.end(text);
}

function listener(handler: RequestHandler, log: (m: string) => void) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    readBody(req)
      .then((body) =>
        handler({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body }),
      )
      .then((response) => send(res, response))
      .catch((error: unknown) => {
        log(`emulator: request failed: ${String(error)}`);
        if (!res.headersSent) {
          send(res, {
            status: 500,
            headers: {},
            body: { Code: 'InternalError', Message: String(error), RequestId: '' },
          });
        }
      });
  };
}

export async function listen(
  options: { host: string; port: number; tls?: TlsMaterial | undefined },
  handler: RequestHandler,
  log: (message: string) => void = () => {},
): Promise<ListeningServer> {
  const onRequest = listener(handler, log);
  const http = createHttpServer({ maxHeaderSize: MAX_HEADER_SIZE }, onRequest);
  const https = options.tls
    ? createHttpsServer(
        { maxHeaderSize: MAX_HEADER_SIZE, key: options.tls.keyPem, cert: options.tls.certPem },
        onRequest,
      )
    : undefined;
  // Idle keep-alive connections stay open long: a server closing one just as a client reuses it
  // makes the client fail with ECONNRESET (Node's default is 5 s). stop() destroys them anyway.
  for (const server of [http, https]) {
    if (server) server.keepAliveTimeout = KEEP_ALIVE_MS;
  }
  const sockets = new Set<Socket>();
  const front: Server = https
    ? createTcpServer((socket) => {
        socket.once('data', (chunk: Buffer) => {
          socket.pause();
          socket.unshift(chunk);
          (chunk[0] === 0x16 ? https : http).emit('connection', socket);
          process.nextTick(() => socket.resume());
        });
      })
    : http;
  front.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    front.once('error', reject);
    front.listen(options.port, options.host, () => resolve());
  });
  const address = front.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return {
    host: options.host,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        front.close(() => resolve());
        for (const socket of sockets) socket.destroy();
        http.closeAllConnections();
        https?.closeAllConnections();
      }),
  };
}

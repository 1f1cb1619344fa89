import { createServer, request, type Agent } from 'node:https';
import type { AddressInfo } from 'node:net';
import { Agent as HttpsAgent } from 'node:https';
import { createCertificateAuthority, issueCertificate } from '../../src/webhook/certs/pki.ts';

/**
 * A TLS-terminating reverse proxy in front of the apiserver that speaks only HTTP/1.1 (it
 * offers no ALPN, as many load balancers), counting the client connections made to it and how
 * many are open. Requests are forwarded with their own headers (bearer token included).
 */
export async function http1Proxy(upstream: { server: string; caPem: string }): Promise<{
  port: number;
  caPem: string;
  connections(): number;
  open(): number;
  close(): Promise<void>;
}> {
  const ca = createCertificateAuthority('http1-proxy-ca');
  const cert = issueCertificate(ca, { commonName: 'proxy', ipAddresses: ['127.0.0.1'] });
  const target = new URL(upstream.server);
  const agent: Agent = new HttpsAgent({ keepAlive: true, ca: upstream.caPem });
  let connections = 0;
  let open = 0;
  const server = createServer({ key: cert.keyPem, cert: cert.certPem }, (req, res) => {
    const out = request(
      {
        host: target.hostname,
        port: target.port,
        path: req.url,
        method: req.method,
        headers: { ...req.headers, host: target.host },
        agent,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    res.on('close', () => out.destroy());
    req.pipe(out);
  });
  server.on('connection', (socket) => {
    connections++;
    open++;
    socket.on('close', () => open--);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    caPem: ca.certPem,
    connections: () => connections,
    open: () => open,
    close: async () => {
      server.closeAllConnections();
      agent.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

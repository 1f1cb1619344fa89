import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';

/** Idle keep-alive connections kept per agent after a burst of calls. */
export const IDLE_SOCKETS_KEPT = 2;

/** What a TLS connection to the apiserver is made with (kubeconfig or in-cluster). */
export interface TlsIdentity {
  ca?: Buffer | undefined;
  cert?: Buffer | undefined;
  key?: Buffer | undefined;
  rejectUnauthorized?: boolean | undefined;
  servername?: string | undefined;
}

/** Requests with equal keys may share a connection (the same server, as the same client). */
export function identityKey(server: string, tls: TlsIdentity): string {
  return JSON.stringify([
    server,
    tls.ca?.toString('base64'),
    tls.cert?.toString('base64'),
    tls.key?.toString('base64'),
    tls.rejectUnauthorized,
    tls.servername,
  ]);
}

/**
 * One keep-alive agent per (server, TLS identity) for the life of the process, so every request
 * and watch shares a small pool (issue 13: client-node opened a connection per call). Used for
 * `http:` servers and for servers that answer ALPN with http/1.1; `https:` apiservers get one
 * HTTP/2 session instead (http2-sessions.ts, ADR 0017). TCP
 * keep-alive probes after 30 s, as client-go does, so a vanished apiserver is noticed. A rotated
 * client certificate is a new identity and gets a new agent; a few rotations start over.
 */
export class AgentPool {
  readonly #agents = new Map<string, HttpAgent | HttpsAgent>();

  agentFor(server: string, tls: TlsIdentity): HttpAgent | HttpsAgent {
    const key = identityKey(server, tls);
    let agent = this.#agents.get(key);
    if (!agent) {
      if (this.#agents.size >= 4) this.#agents.clear(); // in-flight watches keep their own socket
      // maxFreeSockets: a burst of concurrent calls (reconciles, status patches, Events) opens
      // as many connections as calls in flight; afterwards only a few idle ones are kept for
      // reuse and the rest are closed, so the steady state is the watches plus these (issue 13:
      // 36 connections and their TLS buffers stayed open after the 10k/5k burst). Watches are
      // in use, not free, so this never closes one.
      const common = { keepAlive: true, keepAliveMsecs: 30_000, maxFreeSockets: IDLE_SOCKETS_KEPT };
      agent = server.startsWith('https:')
        ? new HttpsAgent({
            ...common,
            ...(tls.ca ? { ca: tls.ca } : {}),
            ...(tls.cert ? { cert: tls.cert } : {}),
            ...(tls.key ? { key: tls.key } : {}),
            ...(tls.rejectUnauthorized !== undefined
              ? { rejectUnauthorized: tls.rejectUnauthorized }
              : {}),
            ...(tls.servername ? { servername: tls.servername } : {}),
          })
        : new HttpAgent(common);
      this.#agents.set(key, agent);
    }
    return agent;
  }
}

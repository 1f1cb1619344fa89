import { connect, type DetailedPeerCertificate } from 'node:tls';

/**
 * The fingerprint IMS CreateOIDCProvider takes: per the IMS SDK's model ("the fingerprint of the
 * HTTPS CA certificate"), the SHA-1 of the CA certificate at the top of the chain the issuer's
 * HTTPS endpoint presents, as lower-case hex. Which certificate of a longer chain STS compares
 * against is [unconfirmed] (reference/alibaba-cloud-api.md §5 gives only "hex SHA1 values"):
 * the root-most one is our choice, as devenv/cloud-setup.ts does for the local issuer.
 */
export function sha1Hex(fingerprint: string): string {
  return fingerprint.replace(/:/g, '').toLowerCase();
}

/** The last certificate of the chain (a self-signed root refers to itself). */
export function topOfChain(leaf: DetailedPeerCertificate): DetailedPeerCertificate {
  let current = leaf;
  const seen = new Set<string>();
  while (current.issuerCertificate && !seen.has(current.fingerprint)) {
    seen.add(current.fingerprint);
    if (current.issuerCertificate.fingerprint === current.fingerprint) break;
    current = current.issuerCertificate;
  }
  return current;
}

export interface FingerprintOptions {
  /** Extra CAs to build the chain with (a private issuer); default the system CAs. */
  caPem?: string | undefined;
  timeoutMs?: number;
}

/** Dials the issuer's host and returns the CA fingerprint; never sends an HTTP request. */
export function issuerFingerprint(
  issuerUrl: string,
  options: FingerprintOptions = {},
): Promise<string> {
  const url = new URL(issuerUrl);
  const timeoutMs = options.timeoutMs ?? 5_000;
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: url.hostname,
      port: Number(url.port || 443),
      servername: /^[\d.]+$|:/.test(url.hostname) ? undefined : url.hostname,
      ...(options.caPem ? { ca: options.caPem } : {}),
      // Only the chain is read, never trusted for data: an untrusted chain still has a top.
      rejectUnauthorized: false,
    });
    socket.setTimeout(timeoutMs, () =>
      socket.destroy(
        new Error(`timed out after ${timeoutMs} ms reading the TLS chain of ${issuerUrl}`),
      ),
    );
    socket.once('secureConnect', () => {
      const top = topOfChain(socket.getPeerCertificate(true));
      socket.end();
      if (!top.fingerprint) reject(new Error(`${issuerUrl} presented no certificate`));
      else resolve(sha1Hex(top.fingerprint));
    });
    socket.once('error', reject);
  });
}

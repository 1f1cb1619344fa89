import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from 'jose';
import { generateTlsMaterial } from '../src/certs.ts';
import type { IssuerOverride } from '../src/index.ts';

type SigningKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

/**
 * A local OIDC issuer for the tests: an RSA key, and an HTTPS server (its own throwaway CA)
 * serving the discovery document and the JWKS. The issuer URL itself is never dialled: the
 * emulator's issuer override sends discovery to this server, as for a real cluster.
 */
export interface TestIssuer {
  issuer: string;
  override: IssuerOverride;
  /** Signs a token with the issuer's key (or `key` when given), iss/aud/sub/iat/exp preset. */
  sign(claims?: JWTPayload, options?: { key?: SigningKey; expiresIn?: string }): Promise<string>;
  /** A different RSA key published under the same kid: its signatures must not verify. */
  foreignKey: SigningKey;
  close(): Promise<void>;
}

export async function startIssuer(
  issuer = 'https://oidc.example.test/clusters/c1',
): Promise<TestIssuer> {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const foreign = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', use: 'sig', alg: 'RS256' };
  const tls = generateTlsMaterial();
  let base = '';
  const server: Server = createServer({ key: tls.keyPem, cert: tls.certPem }, (req, res) => {
    res.setHeader('content-type', 'application/json');
    if (req.url === '/.well-known/openid-configuration') {
      res.end(JSON.stringify({ issuer, jwks_uri: `${base}/openid/v1/jwks` }));
    } else if (req.url === '/openid/v1/jwks') {
      res.end(JSON.stringify({ keys: [jwk] }));
    } else {
      res.statusCode = 404;
      res.end('{}');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer,
    override: { discoveryUrl: `${base}/.well-known/openid-configuration`, caPem: tls.caCertPem },
    foreignKey: foreign.privateKey,
    sign: (claims = {}, options = {}) =>
      new SignJWT({ aud: 'sts.aliyuncs.com', sub: 'system:serviceaccount:ns1:app', ...claims })
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
        .setIssuer(typeof claims.iss === 'string' ? claims.iss : issuer)
        .setIssuedAt()
        .setExpirationTime(options.expiresIn ?? '1h')
        .sign(options.key ?? privateKey),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The trust policy ack-ram-tool writes for one ServiceAccount (reference §7). */
export function rrsaTrustPolicy(
  providerArn: string,
  issuer: string,
  sub: string,
  operator = 'StringEquals',
): string {
  const condition: Record<string, Record<string, string>> = {
    StringEquals: { 'oidc:aud': 'sts.aliyuncs.com', 'oidc:iss': issuer },
  };
  condition[operator] = { ...(condition[operator] ?? {}), 'oidc:sub': sub };
  return JSON.stringify({
    Version: '1',
    Statement: [
      {
        Action: 'sts:AssumeRole',
        Effect: 'Allow',
        Principal: { Federated: [providerArn] },
        Condition: condition,
      },
    ],
  });
}

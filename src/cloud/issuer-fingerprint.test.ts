import { X509Certificate } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createCertificateAuthority, issueCertificate } from '../webhook/certs/pki.ts';
import { issuerFingerprint } from './issuer-fingerprint.ts';
import { lazyPort } from './account-clients.ts';

/** The fingerprint of a real TLS server's chain: the CA's SHA-1, not the leaf's. */

const ca = createCertificateAuthority('issuer test CA');
const leaf = issueCertificate(ca, { commonName: '127.0.0.1', ipAddresses: ['127.0.0.1'] });
let server: Server;
let issuer: string;

beforeAll(async () => {
  server = createServer({ key: leaf.keyPem, cert: leaf.certPem }, (_req, res) => res.end('{}'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `https://127.0.0.1:${(server.address() as AddressInfo).port}/clusters/c1`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const sha1 = (pem: string): string =>
  new X509Certificate(pem).fingerprint.replace(/:/g, '').toLowerCase();

it('is the SHA-1 of the CA at the top of the chain, given the CA', async () => {
  const fingerprint = await issuerFingerprint(issuer, { caPem: ca.certPem });
  expect(fingerprint).toMatch(/^[0-9a-f]{40}$/);
  expect(fingerprint).toBe(sha1(ca.certPem));
  expect(fingerprint).not.toBe(sha1(leaf.certPem));
});

it('falls back to the last certificate presented when the CA is unknown', async () => {
  expect(await issuerFingerprint(issuer)).toBe(sha1(leaf.certPem));
});

it('fails within its deadline when nothing answers TLS', async () => {
  await expect(issuerFingerprint('https://127.0.0.1:1/', { timeoutMs: 500 })).rejects.toThrow();
});

it('lazyPort is not a thenable and forwards to the current port', async () => {
  let calls = 0;
  const port = lazyPort<{ hello(name: string): Promise<string> }>(() => {
    calls++;
    return Promise.resolve({ hello: (name: string) => Promise.resolve(`hi ${name}`) });
  });
  expect(await Promise.resolve(port)).toBe(port);
  expect(await port.hello('x')).toBe('hi x');
  expect(calls).toBe(1);
});

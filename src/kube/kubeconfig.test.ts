import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { readKubeTarget, targetTransport } from './kubeconfig.ts';

function kubeconfig(cluster: object, user: object): string {
  const dir = mkdtempSync(join(tmpdir(), 'kubeconfig-'));
  const path = join(dir, 'config');
  writeFileSync(
    path,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      'current-context': 'c',
      contexts: [{ name: 'c', context: { cluster: 'k', user: 'u' } }],
      clusters: [
        { name: 'other', cluster: { server: 'https://wrong:1' } },
        { name: 'k', cluster },
      ],
      users: [{ name: 'u', user }],
    }),
  );
  return path;
}

describe('readKubeTarget', () => {
  it('reads the current context: server, CA data, client certificate files relative to it', () => {
    const path = kubeconfig(
      {
        server: 'https://127.0.0.1:6443/',
        'certificate-authority-data': Buffer.from('CA').toString('base64'),
        'tls-server-name': 'kubernetes',
      },
      { 'client-certificate': 'client.crt', 'client-key': 'client.key' },
    );
    writeFileSync(join(path, '..', 'client.crt'), 'CERT');
    writeFileSync(join(path, '..', 'client.key'), 'KEY');
    const target = readKubeTarget(path, {})!;
    expect(target.server).toBe('https://127.0.0.1:6443');
    expect(target.tls.ca?.toString()).toBe('CA');
    expect(target.tls.cert?.toString()).toBe('CERT');
    expect(target.tls.key?.toString()).toBe('KEY');
    expect(target.tls.servername).toBe('kubernetes');
    expect(target.tls.rejectUnauthorized).toBeUndefined();
  });

  it('leaves exec plugins, auth providers and proxies to client-node (undefined)', () => {
    const server = 'https://h:1';
    expect(readKubeTarget(kubeconfig({ server }, { exec: { command: 'x' } }), {})).toBeUndefined();
    expect(
      readKubeTarget(kubeconfig({ server }, { 'auth-provider': { name: 'oidc' } }), {}),
    ).toBeUndefined();
    expect(readKubeTarget(kubeconfig({ server, 'proxy-url': 'http://p:3128' }, {}), {})).toBe(
      undefined,
    );
    expect(readKubeTarget(undefined, { KUBECONFIG: `/a${':'}/b` })).toBeUndefined();
  });

  it('refuses plain HTTP unless TLS verification is explicitly skipped, as client-node does', () => {
    expect(() => readKubeTarget(kubeconfig({ server: 'http://h:8080' }, {}), {})).toThrow(
      /HTTP protocol is not allowed/,
    );
    const skip = readKubeTarget(
      kubeconfig({ server: 'http://h:8080', 'insecure-skip-tls-verify': true }, {}),
      {},
    )!;
    expect(skip.tls.rejectUnauthorized).toBe(false);
  });

  it('in-cluster: the service host and port, the mounted CA, the token file', () => {
    const saDir = mkdtempSync(join(tmpdir(), 'sa-'));
    writeFileSync(join(saDir, 'token'), 'tok-1\n');
    writeFileSync(join(saDir, 'ca.crt'), 'CA');
    const target = readKubeTarget(
      undefined,
      { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443', HOME: saDir },
      saDir,
    );
    expect(target?.server).toBe('https://[fd00::1]:443');
    expect(target?.tokenFile).toBe(join(saDir, 'token'));
  });
});

describe('targetTransport', () => {
  it('sends the bearer token, re-reading a token file at most once a minute', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'token-'));
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, 'first\n');
    const clock = { now: 0 };
    const transport = targetTransport(
      { server: 'https://h:1', tls: {}, tokenFile, impersonate: 'bob' },
      () => clock.now,
    );
    const first = await transport.prepare();
    expect(first.headers).toEqual({ Authorization: 'Bearer first', 'Impersonate-User': 'bob' });
    writeFileSync(tokenFile, 'second\n');
    clock.now = 59_000;
    expect((await transport.prepare()).headers.Authorization).toBe('Bearer first');
    clock.now = 60_000;
    const rotated = await transport.prepare();
    expect(rotated.headers.Authorization).toBe('Bearer second');
    expect(rotated.tls).toBe(first.tls); // one TLS identity: the same connections
  });
});

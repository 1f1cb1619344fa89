import { createPublicKey, verify, type JsonWebKey } from 'node:crypto';
import { httpsRequest, waitFor } from '../../devenv/kube-http.ts';
import { kubectl } from '../../devenv/kubectl.ts';
import { createNamespace, testControlPlane } from '../support/cluster.ts';

const cp = testControlPlane();

function decodeSegment(segment: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(segment, 'base64url').toString('utf8')) as Record<string, unknown>;
}

describe('local control plane', () => {
  it('serves the PodIdentityBinding CRD from crds/ as Established, readable with kubectl', async () => {
    const { stdout } = await kubectl(cp.kubeconfigPath, [
      'get',
      'crd',
      'podidentitybindings.rrsa.dev',
      '-o',
      'jsonpath={.status.conditions[?(@.type=="Established")].status}',
    ]);
    expect(stdout).toBe('True');
    const ns = await createNamespace(cp, 'crd');
    const list = await kubectl(cp.kubeconfigPath, [
      'get',
      'podidentitybindings',
      '-n',
      ns,
      '-o',
      'json',
    ]);
    expect(JSON.parse(list.stdout)).toMatchObject({ kind: 'List', items: [] });
  });

  it('runs kube-controller-manager: new namespaces get a default ServiceAccount', async () => {
    const ns = await createNamespace(cp, 'kcm');
    const sa = await waitFor(
      'the default ServiceAccount',
      async () => {
        const res = await kubectl(cp.kubeconfigPath, [
          'get',
          'serviceaccount',
          'default',
          '-n',
          ns,
          '-o',
          'name',
        ]);
        return res.stdout.trim() || undefined;
      },
      30_000,
      500,
    );
    expect(sa).toBe('serviceaccount/default');
  });

  it('issues ServiceAccount tokens for sts.aliyuncs.com that verify against the anonymous JWKS', async () => {
    const ns = await createNamespace(cp, 'token');
    await kubectl(cp.kubeconfigPath, ['create', 'serviceaccount', 'demo-sa', '-n', ns]);
    const { stdout } = await kubectl(cp.kubeconfigPath, [
      'create',
      'token',
      'demo-sa',
      '-n',
      ns,
      '--audience=sts.aliyuncs.com',
      '--duration=10m',
    ]);
    const token = stdout.trim();
    const [headerPart, payloadPart, signaturePart] = token.split('.');
    const header = decodeSegment(headerPart!);
    const claims = decodeSegment(payloadPart!);

    // No bearer token: STS reads these endpoints as an anonymous client.
    const discovery = await httpsRequest(`${cp.server}/.well-known/openid-configuration`, {
      caPem: cp.caPem,
    });
    expect(discovery.status).toBe(200);
    const config = JSON.parse(discovery.body) as { issuer: string; jwks_uri: string };
    expect(config.issuer).toBe(cp.issuer);
    const jwksRes = await httpsRequest(`${cp.server}/openid/v1/jwks`, {
      caPem: cp.caPem,
      accept: 'application/jwk-set+json',
    });
    expect(jwksRes.status).toBe(200);
    const jwks = JSON.parse(jwksRes.body) as { keys: (JsonWebKey & { kid: string })[] };
    const jwk = jwks.keys.find((k) => k.kid === header.kid);
    expect(jwk).toBeDefined();

    expect(header.alg).toBe('RS256');
    const signed = Buffer.from(`${headerPart}.${payloadPart}`);
    const key = createPublicKey({ key: jwk!, format: 'jwk' });
    expect(verify('RSA-SHA256', signed, key, Buffer.from(signaturePart!, 'base64url'))).toBe(true);
    const tampered = Buffer.from(`${headerPart}.${payloadPart}x`);
    expect(verify('RSA-SHA256', tampered, key, Buffer.from(signaturePart!, 'base64url'))).toBe(
      false,
    );

    expect(claims.iss).toBe(cp.issuer);
    expect(claims.aud).toEqual(['sts.aliyuncs.com']);
    expect(claims.sub).toBe(`system:serviceaccount:${ns}:demo-sa`);
    expect(Number(claims.exp) - Number(claims.iat)).toBe(600);
  });
});

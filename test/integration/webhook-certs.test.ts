import { X509Certificate } from 'node:crypto';
import { connect } from 'node:tls';
import { Registry } from 'prom-client';
import { kubectl } from '../../devenv/kubectl.ts';
import { createCertificateAuthority } from '../../src/webhook/certs/pki.ts';
import { installWebhook, uninstallWebhook } from '../../devenv/webhook.ts';
import { createKubeClients, loadKubeConfig } from '../../src/kube/client.ts';
import { webhookCaBundle } from '../../src/kube/webhook-ca-bundle.ts';
import { WEBHOOK_TLS_SECRET, webhookTlsSecret } from '../../src/kube/webhook-tls-secret.ts';
import {
  ManagedCertificates,
  type ManagedCertificatesOptions,
} from '../../src/webhook/certs/managed.ts';
import { defaultInjectionConfig } from '../../src/webhook/config.ts';
import { startWebhookServer } from '../../src/webhook/server.ts';
import { createNamespace, testControlPlane, uniqueName } from '../support/cluster.ts';

// Operator-managed certificates against the real apiserver: the Secret shared by replicas, the
// caBundle in a real MutatingWebhookConfiguration (scoped to a label no namespace carries, so it
// intercepts nothing), renewal and CA rotation driven by a moved clock.

jest.setTimeout(120_000);

const cp = testControlPlane();
const clients = createKubeClients(loadKubeConfig(cp.kubeconfigPath));
const DAY = 86_400_000;

interface Mwc {
  webhooks: { clientConfig: { caBundle?: string } }[];
}

async function caBundles(name: string): Promise<string[]> {
  const { stdout } = await kubectl(cp.kubeconfigPath, [
    'get',
    'mutatingwebhookconfiguration',
    name,
    '-o',
    'json',
  ]);
  return (JSON.parse(stdout) as Mwc).webhooks.map((w) =>
    Buffer.from(w.clientConfig.caBundle ?? '', 'base64').toString('utf8'),
  );
}

function certificates(pem: string): X509Certificate[] {
  return (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map(
    (c) => new X509Certificate(c),
  );
}

describe('operator-managed webhook certificates', () => {
  const mwcName = uniqueName('rrsa-webhook-certs-test');
  let namespace: string;
  let options: (now?: Date) => ManagedCertificatesOptions;

  beforeAll(async () => {
    namespace = await createNamespace(cp, 'rrsa-certs');
    await installWebhook(cp.kubeconfigPath, {
      name: mwcName,
      url: 'https://127.0.0.1:1/mutate-v1-pod',
      caPem: createCertificateAuthority('placeholder').certPem,
      namespaceLabels: { 'rrsa-webhook-certs-test': 'no-namespace-has-this' },
    });
    const dnsNames = [
      `rrsa-operator-webhook.${namespace}.svc`,
      `rrsa-operator-webhook.${namespace}.svc.cluster.local`,
    ];
    options = (now) => ({
      secret: webhookTlsSecret(clients.rest, namespace),
      caBundle: webhookCaBundle(clients.rest, mwcName),
      dnsNames,
      ...(now ? { now: () => now } : {}),
    });
  });

  afterAll(async () => {
    await uninstallWebhook(cp.kubeconfigPath, mwcName);
    await kubectl(cp.kubeconfigPath, ['delete', 'namespace', namespace, '--wait=false']);
  });

  it('creates one Secret when two replicas start at once, and both serve its certificate', async () => {
    const a = new ManagedCertificates(options());
    const b = new ManagedCertificates(options());
    const actions = await Promise.all([a.ensure(), b.ensure()]);
    expect(actions.sort()).toEqual(['create', 'keep']);
    expect(a.current()).toEqual(b.current());

    const { stdout } = await kubectl(cp.kubeconfigPath, [
      'get',
      'secret',
      WEBHOOK_TLS_SECRET,
      '-n',
      namespace,
      '-o',
      'json',
    ]);
    const secret = JSON.parse(stdout) as { type: string; data: Record<string, string> };
    expect(secret.type).toBe('kubernetes.io/tls');
    expect(Object.keys(secret.data).sort()).toEqual(['ca.crt', 'ca.key', 'tls.crt', 'tls.key']);
    const caPem = Buffer.from(secret.data['ca.crt']!, 'base64').toString('utf8');
    expect(await caBundles(mwcName)).toEqual([caPem, caPem]);
    const serving = new X509Certificate(a.current()!.certPem);
    expect(serving.checkIssued(certificates(caPem)[0]!)).toBe(true);
    expect(serving.subjectAltName).toBe(
      `DNS:rrsa-operator-webhook.${namespace}.svc, DNS:rrsa-operator-webhook.${namespace}.svc.cluster.local`,
    );
  });

  it('serves the managed certificate, verifiable with the caBundle the apiserver reads', async () => {
    const managed = new ManagedCertificates(options());
    await managed.start();
    const server = await startWebhookServer({
      host: '127.0.0.1',
      port: 0,
      certificates: managed,
      lookup: {
        serviceAccount: () => Promise.resolve(undefined),
        namespace: () => Promise.resolve(undefined),
        hasSynced: () => true,
      },
      registry: new Registry(),
      injection: defaultInjectionConfig({ accountId: '1', clusterId: 'c' }),
      missingServiceAccount: 'admit',
    });
    try {
      const [bundle] = await caBundles(mwcName);
      const authorized = await new Promise<boolean>((resolve, reject) => {
        const socket = connect(
          {
            host: '127.0.0.1',
            port: server.port,
            ca: bundle,
            servername: `rrsa-operator-webhook.${namespace}.svc`,
          },
          () => {
            resolve(socket.authorized);
            socket.end();
          },
        );
        socket.on('error', reject);
      });
      expect(authorized).toBe(true);
    } finally {
      managed.stop();
      await server.close();
    }
  });

  it('renews the serving certificate 30 days before it expires, keeping the CA', async () => {
    const before = new ManagedCertificates(options());
    await before.ensure();
    const oldCert = new X509Certificate(before.current()!.certPem);
    const later = new ManagedCertificates(options(new Date(Date.now() + 340 * DAY)));
    expect(await later.ensure()).toBe('renew-serving');
    const renewed = new X509Certificate(later.current()!.certPem);
    expect(renewed.serialNumber).not.toBe(oldCert.serialNumber);
    expect(renewed.issuer).toBe(oldCert.issuer);
    // The other replica picks it up on its next check.
    expect(await new ManagedCertificates(options(new Date(Date.now() + 340 * DAY))).ensure()).toBe(
      'keep',
    );
  });

  it('rotates the CA a year before it expires and keeps the old CA trusted beside the new one', async () => {
    const [oldBundle] = await caBundles(mwcName);
    const oldCa = certificates(oldBundle!)[0]!;
    const rotated = new ManagedCertificates(options(new Date(Date.now() + 3300 * DAY)));
    expect(await rotated.ensure()).toBe('rotate-ca');
    const [bundle] = await caBundles(mwcName);
    const cas = certificates(bundle!);
    expect(cas).toHaveLength(2);
    expect(cas[1]!.fingerprint256).toBe(oldCa.fingerprint256);
    expect(new X509Certificate(rotated.current()!.certPem).checkIssued(cas[0]!)).toBe(true);
  });

  it('repairs a caBundle that a re-applied manifest emptied', async () => {
    await installWebhook(cp.kubeconfigPath, {
      name: mwcName,
      url: 'https://127.0.0.1:1/mutate-v1-pod',
      caPem: 'not a CA',
      namespaceLabels: { 'rrsa-webhook-certs-test': 'no-namespace-has-this' },
    });
    const managed = new ManagedCertificates(options(new Date(Date.now() + 3300 * DAY)));
    expect(await managed.ensure()).toBe('keep');
    const bundles = await caBundles(mwcName);
    expect(certificates(bundles[0]!)).toHaveLength(2);
  });
});

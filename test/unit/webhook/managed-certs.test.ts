import { X509Certificate } from 'node:crypto';
import {
  ManagedCertificates,
  planRotation,
  type TlsBundle,
  type TlsSecretPort,
} from '../../../src/webhook/certs/managed.ts';

// The rotation plan (pure) and the start-up path when the webhook configuration is missing.
// The Secret and caBundle adapters are tested on the real apiserver (webhook-certs.test.ts).

const DAY = 86_400_000;
const dnsNames = ['rrsa-operator-webhook.rrsa-system.svc'];

class MemorySecret implements TlsSecretPort {
  stored: { bundle: TlsBundle; version: string } | undefined;
  read(): Promise<{ bundle: TlsBundle; version: string } | undefined> {
    return Promise.resolve(this.stored);
  }
  create(bundle: TlsBundle): Promise<boolean> {
    if (this.stored) return Promise.resolve(false);
    this.stored = { bundle, version: '1' };
    return Promise.resolve(true);
  }
  update(bundle: TlsBundle, version: string): Promise<boolean> {
    if (this.stored?.version !== version) return Promise.resolve(false);
    this.stored = { bundle, version: String(Number(version) + 1) };
    return Promise.resolve(true);
  }
}

describe('managed webhook certificates', () => {
  const secret = new MemorySecret();
  const limits = (days: number, names = dnsNames) => ({
    now: new Date(Date.now() + days * DAY),
    caRenewBeforeDays: 365,
    servingRenewBeforeDays: 30,
    dnsNames: names,
    ipAddresses: [],
  });

  it('starts serving even when the caBundle cannot be written yet, and reports it', async () => {
    const errors: unknown[] = [];
    const managed = new ManagedCertificates({
      secret,
      caBundle: {
        ensure: () => Promise.reject(new Error('mutatingwebhookconfigurations "x" not found')),
      },
      dnsNames,
      onError: (e) => errors.push(e),
    });
    expect(await managed.ensure()).toBe('create');
    expect(managed.current()?.certPem).toBe(secret.stored?.bundle.certPem);
    expect(errors).toHaveLength(1);
    // Once serving, a failed caBundle write is an error (never serve an untrusted certificate).
    await expect(managed.ensure()).rejects.toThrow('not found');
  });

  it('plans create, keep, renew-serving and rotate-ca by remaining validity and SANs', () => {
    const bundle = secret.stored!.bundle;
    expect(planRotation(undefined, limits(0))).toBe('create');
    expect(planRotation({ ...bundle, certPem: 'garbage' }, limits(0))).toBe('create');
    expect(planRotation(bundle, limits(0))).toBe('keep');
    expect(planRotation(bundle, limits(334))).toBe('keep');
    expect(planRotation(bundle, limits(336))).toBe('renew-serving');
    expect(planRotation(bundle, limits(0, [...dnsNames, 'extra.svc']))).toBe('renew-serving');
    expect(planRotation(bundle, limits(3650 - 364))).toBe('rotate-ca');
    const caValidTo = new Date(new X509Certificate(bundle.caCertPem).validTo).getTime();
    expect(Math.round((caValidTo - Date.now()) / DAY)).toBe(3650);
  });

  it('re-issues a serving certificate not signed by the stored CA', async () => {
    const other = new MemorySecret();
    const managed = new ManagedCertificates({
      secret: other,
      caBundle: { ensure: () => Promise.resolve() },
      dnsNames,
    });
    await managed.ensure();
    const mixed = {
      ...secret.stored!.bundle,
      certPem: other.stored!.bundle.certPem,
      keyPem: other.stored!.bundle.keyPem,
    };
    expect(planRotation(mixed, limits(0))).toBe('renew-serving');
  });
});

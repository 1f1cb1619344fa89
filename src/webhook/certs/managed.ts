import { X509Certificate } from 'node:crypto';
import { createCertificateAuthority, issueCertificate } from './pki.ts';
import { CertificateHolder } from './source.ts';

// The operator-managed alternative to cert-manager: a self-signed CA and a serving certificate
// kept in one Secret that every replica shares, the CA published as the webhook
// configuration's caBundle, both renewed well before they expire.
// (pki.ts builds the X.509 structures: node:crypto keys, node-forge certificates.)

/** What the Secret holds. `caCertPem` is the bundle: the current CA first, then a retiring one. */
export interface TlsBundle {
  caCertPem: string;
  caKeyPem: string;
  certPem: string;
  keyPem: string;
}

/** The Secret, through src/kube/webhook-tls-secret.ts. `version` is its resourceVersion. */
export interface TlsSecretPort {
  read(): Promise<{ bundle: TlsBundle | undefined; version: string } | undefined>;
  /** false when it already exists (another replica won the race). */
  create(bundle: TlsBundle): Promise<boolean>;
  /** false on a conflict (changed since `version`). */
  update(bundle: TlsBundle, version: string): Promise<boolean>;
}

/** Writes the caBundle into the MutatingWebhookConfiguration when it differs. */
export interface CaBundlePort {
  ensure(caBundlePem: string): Promise<void>;
}

export interface ManagedCertificatesOptions {
  secret: TlsSecretPort;
  caBundle: CaBundlePort;
  /** SANs of the serving certificate: `<service>.<namespace>.svc` and friends. */
  dnsNames: string[];
  ipAddresses?: string[];
  caValidDays?: number;
  caRenewBeforeDays?: number;
  servingValidDays?: number;
  servingRenewBeforeDays?: number;
  checkIntervalMs?: number;
  now?: () => Date;
  onError?: (error: unknown) => void;
  onChange?: (action: RotationAction) => void;
}

export type RotationAction = 'create' | 'rotate-ca' | 'renew-serving' | 'keep';

const DAY = 86_400_000;

interface Limits {
  now: Date;
  caRenewBeforeDays: number;
  servingRenewBeforeDays: number;
  dnsNames: string[];
  ipAddresses: string[];
}

function splitPem(bundle: string): string[] {
  return bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

function sansOf(cert: X509Certificate): string {
  return (cert.subjectAltName ?? '').split(', ').sort().join(', ');
}

function wantedSans(limits: Limits): string {
  return [
    ...limits.dnsNames.map((n) => `DNS:${n}`),
    ...limits.ipAddresses.map((ip) => `IP Address:${ip}`),
  ]
    .sort()
    .join(', ');
}

/** What to do with the stored bundle (pure; `undefined` = no Secret or unreadable). */
export function planRotation(bundle: TlsBundle | undefined, limits: Limits): RotationAction {
  if (!bundle) return 'create';
  let ca: X509Certificate;
  let serving: X509Certificate;
  try {
    ca = new X509Certificate(splitPem(bundle.caCertPem)[0] ?? '');
    serving = new X509Certificate(bundle.certPem);
  } catch {
    return 'create';
  }
  const left = (cert: X509Certificate): number =>
    (new Date(cert.validTo).getTime() - limits.now.getTime()) / DAY;
  if (left(ca) < limits.caRenewBeforeDays) return 'rotate-ca';
  if (
    left(serving) < limits.servingRenewBeforeDays ||
    !serving.checkIssued(ca) ||
    !serving.verify(ca.publicKey) ||
    sansOf(serving) !== wantedSans(limits)
  ) {
    return 'renew-serving';
  }
  return 'keep';
}

/**
 * Keeps the Secret, the caBundle and this replica's serving certificate in step. Order on a
 * change: Secret first (optimistic concurrency: a losing replica re-reads and adopts), then the
 * caBundle, then the served certificate, so the apiserver trusts a CA before any replica serves
 * a certificate from it. A rotated CA stays in the bundle next to the new one until it expires,
 * so replicas still serving the previous certificate keep being trusted.
 */
export class ManagedCertificates extends CertificateHolder {
  readonly #options: ManagedCertificatesOptions;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: ManagedCertificatesOptions) {
    super();
    this.#options = options;
  }

  async start(): Promise<void> {
    await this.ensure();
    this.#timer = setInterval(() => {
      this.ensure().catch((error: unknown) => this.#options.onError?.(error));
    }, this.#options.checkIntervalMs ?? 3_600_000);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** One pass; returns what this replica did (`keep` when another replica did the work). */
  async ensure(): Promise<RotationAction> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const stored = await this.#options.secret.read();
      const action = planRotation(stored?.bundle, this.#limits());
      if (action === 'keep' && stored?.bundle) {
        await this.#publish(stored.bundle);
        return 'keep';
      }
      const next = this.#build(action, stored?.bundle);
      const written = stored
        ? await this.#options.secret.update(next, stored.version)
        : await this.#options.secret.create(next);
      if (!written) continue; // another replica changed it first: adopt theirs
      await this.#publish(next);
      this.#options.onChange?.(action);
      return action;
    }
    throw new Error('the webhook TLS Secret kept changing under us; will retry');
  }

  async #publish(bundle: TlsBundle): Promise<void> {
    try {
      await this.#options.caBundle.ensure(bundle.caCertPem);
    } catch (error) {
      // Keep serving a certificate the apiserver already trusts; but with none yet (startup,
      // webhook configuration not installed), serving this one is harmless and lets the
      // server start. The next check writes the caBundle.
      if (this.current()) throw error;
      this.#options.onError?.(error);
    }
    this.set({ certPem: bundle.certPem, keyPem: bundle.keyPem });
  }

  #limits(): Limits {
    const o = this.#options;
    return {
      now: o.now?.() ?? new Date(),
      caRenewBeforeDays: o.caRenewBeforeDays ?? 365,
      servingRenewBeforeDays: o.servingRenewBeforeDays ?? 30,
      dnsNames: o.dnsNames,
      ipAddresses: o.ipAddresses ?? [],
    };
  }

  #build(action: RotationAction, previous: TlsBundle | undefined): TlsBundle {
    const o = this.#options;
    const now = o.now?.() ?? new Date();
    let ca = previous && { certPem: splitPem(previous.caCertPem)[0]!, keyPem: previous.caKeyPem };
    let caBundle = previous?.caCertPem ?? '';
    if (action === 'create' || action === 'rotate-ca' || !ca) {
      const retiring = action === 'rotate-ca' && ca ? stillValid(ca.certPem, now) : [];
      ca = createCertificateAuthority('rrsa-operator-webhook-ca', o.caValidDays ?? 3650, now);
      caBundle = [ca.certPem.trim(), ...retiring].join('\n') + '\n';
    }
    const serving = issueCertificate(ca, {
      commonName: o.dnsNames[0] ?? 'rrsa-operator-webhook',
      dnsNames: o.dnsNames,
      ipAddresses: o.ipAddresses ?? [],
      validDays: o.servingValidDays ?? 365,
      now,
    });
    return {
      caCertPem: caBundle,
      caKeyPem: ca.keyPem,
      certPem: serving.certPem,
      keyPem: serving.keyPem,
    };
  }
}

function stillValid(certPem: string, now: Date): string[] {
  const cert = new X509Certificate(certPem);
  return new Date(cert.validTo) > now ? [certPem.trim()] : [];
}

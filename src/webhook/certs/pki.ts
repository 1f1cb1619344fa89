import { generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';

/** A PEM key pair plus its certificate. */
export interface CertifiedKey {
  certPem: string;
  keyPem: string;
}

export interface IssueOptions {
  commonName: string;
  /** Subject O= values; Kubernetes reads them as the client's groups (e.g. system:nodes). */
  organizations?: string[];
  ipAddresses?: string[];
  dnsNames?: string[];
  validDays?: number;
  now?: Date;
}

// RSA keys come from node:crypto (native, milliseconds); node-forge only builds the X.509
// structures, which node:crypto cannot do.
function newRsaKey(): {
  forgePrivate: forge.pki.rsa.PrivateKey;
  forgePublic: forge.pki.PublicKey;
  pem: string;
} {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const forgePrivate = forge.pki.privateKeyFromPem(pem);
  const forgePublic = forge.pki.setRsaPublicKey(forgePrivate.n, forgePrivate.e);
  return { forgePrivate, forgePublic, pem };
}

function baseCertificate(
  publicKey: forge.pki.PublicKey,
  commonName: string,
  validDays: number,
  now: Date,
): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  // Positive serial: a leading 0x00..0x7f byte keeps the DER integer non-negative.
  cert.serialNumber = '01' + randomBytes(15).toString('hex');
  cert.validity.notBefore = new Date(now.getTime() - 60_000);
  cert.validity.notAfter = new Date(now.getTime() + validDays * 86_400_000);
  cert.setSubject([{ name: 'commonName', value: commonName }]);
  return cert;
}

/** A self-signed certificate authority. */
export function createCertificateAuthority(
  commonName: string,
  validDays = 3650,
  now = new Date(),
): CertifiedKey {
  const key = newRsaKey();
  const cert = baseCertificate(key.forgePublic, commonName, validDays, now);
  cert.setIssuer(cert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(key.forgePrivate, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: key.pem };
}

/** A TLS server (and client) certificate signed by `ca`. */
export function issueCertificate(ca: CertifiedKey, options: IssueOptions): CertifiedKey {
  const key = newRsaKey();
  const caCert = forge.pki.certificateFromPem(ca.certPem);
  const caKey = forge.pki.privateKeyFromPem(ca.keyPem);
  const cert = baseCertificate(
    key.forgePublic,
    options.commonName,
    options.validDays ?? 365,
    options.now ?? new Date(),
  );
  cert.setIssuer(caCert.subject.attributes);
  if (options.organizations?.length) {
    cert.setSubject([
      ...options.organizations.map((value) => ({ name: 'organizationName', value })),
      { name: 'commonName', value: options.commonName },
    ]);
  }
  const altNames = [
    ...(options.dnsNames ?? []).map((value) => ({ type: 2, value })),
    ...(options.ipAddresses ?? []).map((ip) => ({ type: 7, ip })),
  ];
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
    ...(altNames.length > 0 ? [{ name: 'subjectAltName', altNames }] : []),
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: key.pem };
}

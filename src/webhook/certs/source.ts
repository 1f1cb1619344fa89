import { X509Certificate } from 'node:crypto';
import { createSecureContext } from 'node:tls';

/** A serving key pair (PEM). `certPem` may hold the chain, leaf first. */
export interface ServingCertificate {
  certPem: string;
  keyPem: string;
}

/**
 * Where the server gets its certificate: files written by cert-manager (hot reloaded) or the
 * operator-managed CA in a Secret. The server swaps its TLS context on every change, without a
 * restart and without dropping open connections.
 */
export interface CertificateSource {
  current(): ServingCertificate | undefined;
  /** Called with each new certificate; returns an unsubscribe function. */
  subscribe(listener: (certificate: ServingCertificate) => void): () => void;
}

/** A fixed certificate (tests, benchmarks, or a manager that reloads by itself). */
export function staticCertificates(certificate: ServingCertificate): CertificateSource {
  return { current: () => certificate, subscribe: () => () => undefined };
}

/** A small base for sources that change: remembers the current value and notifies. */
export class CertificateHolder implements CertificateSource {
  #current: ServingCertificate | undefined;
  readonly #listeners = new Set<(certificate: ServingCertificate) => void>();

  current(): ServingCertificate | undefined {
    return this.#current;
  }

  subscribe(listener: (certificate: ServingCertificate) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Sets the certificate if it differs; true when it changed. */
  set(certificate: ServingCertificate): boolean {
    const now = this.#current;
    if (now && now.certPem === certificate.certPem && now.keyPem === certificate.keyPem) {
      return false;
    }
    this.#current = certificate;
    for (const listener of this.#listeners) listener(certificate);
    return true;
  }
}

/** Throws when the pair is unusable (bad PEM, key not matching the certificate). */
export function checkServingCertificate(certificate: ServingCertificate): void {
  createSecureContext({ cert: certificate.certPem, key: certificate.keyPem });
}

/** notAfter of the leaf certificate. */
export function certificateNotAfter(certPem: string): Date {
  return new Date(new X509Certificate(certPem).validTo);
}

import { readFile } from 'node:fs/promises';
import { CertificateHolder, checkServingCertificate, type ServingCertificate } from './source.ts';

export interface CertificateFilesOptions {
  certFile: string;
  keyFile: string;
  /** How often the files are re-read; cert-manager renews days ahead, so seconds are plenty. */
  intervalMs?: number;
  onError?: (error: unknown) => void;
  onReload?: (certificate: ServingCertificate) => void;
}

/**
 * Certificate files (a cert-manager Secret mounted as a volume), re-read periodically. Polling
 * rather than fs.watch: the kubelet updates a Secret volume by swapping a `..data` symlink,
 * which inotify watches on the files themselves miss, and two small reads every few seconds
 * cost nothing. A pair that does not load (half-written, key and cert from different
 * renewals) is skipped and the previous one kept.
 */
export class CertificateFiles extends CertificateHolder {
  readonly #options: CertificateFilesOptions;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: CertificateFilesOptions) {
    super();
    this.#options = options;
  }

  /** Loads the files once (rejects if they are unusable) and starts polling. */
  async start(): Promise<void> {
    await this.reload();
    if (!this.current()) throw new Error(`no usable certificate in ${this.#options.certFile}`);
    this.#timer = setInterval(() => void this.reload(), this.#options.intervalMs ?? 10_000);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** One poll; true when a new certificate was taken. */
  async reload(): Promise<boolean> {
    try {
      const [certPem, keyPem] = await Promise.all([
        readFile(this.#options.certFile, 'utf8'),
        readFile(this.#options.keyFile, 'utf8'),
      ]);
      const next = { certPem, keyPem };
      const current = this.current();
      if (current && current.certPem === certPem && current.keyPem === keyPem) return false;
      checkServingCertificate(next);
      this.set(next);
      this.#options.onReload?.(next);
      return true;
    } catch (error) {
      this.#options.onError?.(error);
      return false;
    }
  }
}

import { createHash } from 'node:crypto';

/**
 * Deterministic ids: a SHA-256 counter stream keyed by the seed, so two runs with one seed and
 * the same sequence of requests produce the same RoleIds, RequestIds and STS keys.
 */
export class IdSource {
  private readonly seed: string;
  private counter = 0;

  constructor(seed: string | number) {
    this.seed = String(seed);
  }

  /** Back to the start of the stream (a reset emulator repeats the ids of a fresh one). */
  reset(): void {
    this.counter = 0;
  }

  bytes(count: number): Buffer {
    const chunks: Buffer[] = [];
    let have = 0;
    while (have < count) {
      const block = createHash('sha256').update(`${this.seed}:${this.counter++}`).digest();
      chunks.push(block);
      have += block.length;
    }
    return Buffer.concat(chunks).subarray(0, count);
  }

  /** A float in [0, 1). */
  float(): number {
    return this.bytes(4).readUInt32BE(0) / 0x1_0000_0000;
  }

  digits(count: number): string {
    return [...this.bytes(count)].map((b) => String(b % 10)).join('');
  }

  alnum(count: number): string {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
    return [...this.bytes(count)].map((b) => alphabet[b % alphabet.length]).join('');
  }

  /** An uppercase UUID-shaped string, like Alibaba's RequestIds. */
  uuid(): string {
    const hex = this.bytes(16).toString('hex').toUpperCase();
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }
}

/** The emulator's notion of now: real time (or an injected source) plus a test offset. */
export class Clock {
  private readonly source: () => number;
  private offsetMs = 0;

  constructor(source: () => number = Date.now) {
    this.source = source;
  }

  now(): number {
    return this.source() + this.offsetMs;
  }

  advance(ms: number): void {
    this.offsetMs += ms;
  }

  reset(): void {
    this.offsetMs = 0;
  }
}

/** `2015-01-23T12:33:18Z`: the only date format the SDKs accept (no milliseconds). */
export function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

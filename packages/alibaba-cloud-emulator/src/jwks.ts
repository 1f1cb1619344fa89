import type { JsonWebKey } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Jwks } from './jwt.ts';

/**
 * Finds an issuer's signing keys the way STS does: `<issuer>/.well-known/openid-configuration`,
 * then its `jwks_uri`. An override per issuer points discovery somewhere else and trusts a CA,
 * because a local kube-apiserver's issuer is its own https address with a self-signed cert.
 * Keys are cached per issuer for a short time; an unknown `kid` forces one refetch.
 */

export interface IssuerOverride {
  /** Fetch the discovery document here instead of `<issuer>/.well-known/openid-configuration`. */
  discoveryUrl?: string;
  /** Skip discovery and fetch the JWKS here. */
  jwksUrl?: string;
  /** Trust this CA (PEM) for both fetches. */
  caPem?: string;
  /** Extra request headers (for example `Authorization: Bearer ...`). */
  headers?: Record<string, string>;
  /** Use these keys and fetch nothing. */
  jwks?: Jwks;
}

export interface JwksFetchOptions {
  overrides?: Record<string, IssuerOverride>;
  cacheMs?: number;
  timeoutMs?: number;
  now?: () => number;
}

interface CacheEntry {
  jwks: Jwks;
  fetchedAt: number;
}

const MAX_BODY = 1024 * 1024;

function getJson(
  url: string,
  override: IssuerOverride | undefined,
  timeoutMs: number,
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const parsed = new URL(url);
    const send = parsed.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(
      parsed,
      {
        method: 'GET',
        // kube-apiserver answers 406 to a JWKS request that does not accept jwk-set+json.
        headers: {
          accept: 'application/json, application/jwk-set+json',
          ...(override?.headers ?? {}),
        },
        ...(override?.caPem ? { ca: override.caPem } : {}),
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_BODY) req.destroy(new Error(`${url}: response too large`));
          else chunks.push(chunk);
        });
        res.on('end', () => {
          if ((res.statusCode ?? 0) >= 300) {
            reject(new Error(`${url}: HTTP ${res.statusCode}`));
            return;
          }
          try {
            resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
          } catch (error) {
            reject(new Error(`${url}: invalid JSON (${(error as Error).message})`));
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${url}: timed out`)));
    req.on('error', reject);
    req.end();
  });
}

function asJwks(value: unknown, url: string): Jwks {
  const keys = (value as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) throw new Error(`${url}: no "keys" array`);
  return { keys: keys.filter((k): k is JsonWebKey => typeof k === 'object' && k !== null) };
}

export function trimIssuer(issuer: string): string {
  return issuer.replace(/\/+$/, '');
}

export class JwksClient {
  private readonly overrides = new Map<string, IssuerOverride>();
  private readonly cache = new Map<string, CacheEntry>();
  private readonly cacheMs: number;
  private readonly timeoutMs: number;
  private readonly now: () => number;

  constructor(options: JwksFetchOptions = {}) {
    this.cacheMs = options.cacheMs ?? 60_000;
    this.timeoutMs = options.timeoutMs ?? 5_000;
    this.now = options.now ?? Date.now;
    for (const [issuer, override] of Object.entries(options.overrides ?? {})) {
      this.setOverride(issuer, override);
    }
  }

  setOverride(issuer: string, override: IssuerOverride | undefined): void {
    const key = trimIssuer(issuer);
    if (override) this.overrides.set(key, override);
    else this.overrides.delete(key);
    this.cache.delete(key);
  }

  listOverrides(): Record<string, IssuerOverride> {
    return Object.fromEntries(this.overrides);
  }

  clearCache(): void {
    this.cache.clear();
  }

  /** The issuer's keys; `refresh` bypasses the cache (used once when no key matches). */
  async keys(issuer: string, refresh = false): Promise<Jwks> {
    const key = trimIssuer(issuer);
    const cached = this.cache.get(key);
    if (!refresh && cached && this.now() - cached.fetchedAt < this.cacheMs) return cached.jwks;
    const jwks = await this.fetchKeys(key);
    this.cache.set(key, { jwks, fetchedAt: this.now() });
    return jwks;
  }

  /** Whether the cached entry is older than `ms` (an unknown kid refetches only then). */
  cachedFor(issuer: string): number | undefined {
    const cached = this.cache.get(trimIssuer(issuer));
    return cached ? this.now() - cached.fetchedAt : undefined;
  }

  private async fetchKeys(issuer: string): Promise<Jwks> {
    const override = this.overrides.get(issuer);
    if (override?.jwks) return override.jwks;
    let jwksUrl = override?.jwksUrl;
    if (!jwksUrl) {
      const discoveryUrl = override?.discoveryUrl ?? `${issuer}/.well-known/openid-configuration`;
      const discovery = (await getJson(discoveryUrl, override, this.timeoutMs)) as {
        jwks_uri?: unknown;
      } | null;
      if (typeof discovery?.jwks_uri !== 'string') {
        throw new Error(`${discoveryUrl}: no jwks_uri`);
      }
      jwksUrl = discovery.jwks_uri;
    }
    return asJwks(await getJson(jwksUrl, override, this.timeoutMs), jwksUrl);
  }
}

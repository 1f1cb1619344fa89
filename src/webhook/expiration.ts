import {
  DEFAULT_TOKEN_EXPIRATION_SECONDS,
  MAX_TOKEN_EXPIRATION_SECONDS,
  MIN_TOKEN_EXPIRATION_SECONDS,
  TOKEN_EXPIRATION_ANNOTATION,
} from './constants.ts';

export interface ExpirationSource {
  /** Where the value came from, for the warning: `pod` or `ServiceAccount`. */
  source: 'pod' | 'ServiceAccount';
  value: string | undefined;
}

export interface ResolvedExpiration {
  seconds: number;
  warning?: string;
}

/**
 * Token lifetime. Precedence: the pod's annotation, then the ServiceAccount's, then 3600. The
 * first annotation present decides, even when invalid: an invalid value falls back to the
 * default (as ack-pod-identity-webhook does), never to the next source, and the pod is admitted
 * with a warning rather than denied (Azure denies; users then lose the whole Deployment).
 */
export function resolveExpiration(sources: ExpirationSource[]): ResolvedExpiration {
  const chosen = sources.find((s) => s.value !== undefined);
  if (chosen?.value === undefined) return { seconds: DEFAULT_TOKEN_EXPIRATION_SECONDS };
  const seconds = parseExpiration(chosen.value);
  if (seconds !== undefined) return { seconds };
  return {
    seconds: DEFAULT_TOKEN_EXPIRATION_SECONDS,
    warning:
      `${chosen.source} annotation ${TOKEN_EXPIRATION_ANNOTATION}=${JSON.stringify(chosen.value)} ` +
      `is invalid (valid: an integer from ${MIN_TOKEN_EXPIRATION_SECONDS} to ` +
      `${MAX_TOKEN_EXPIRATION_SECONDS} seconds); using ${DEFAULT_TOKEN_EXPIRATION_SECONDS}`,
  };
}

/** Whole seconds in range, or undefined ("abc", "599", "43201", "3600.5", "1e4", ""). */
export function parseExpiration(raw: string): number | undefined {
  const text = raw.trim();
  if (!/^\d{1,9}$/.test(text)) return undefined;
  const seconds = Number(text);
  if (seconds < MIN_TOKEN_EXPIRATION_SECONDS || seconds > MAX_TOKEN_EXPIRATION_SECONDS) {
    return undefined;
  }
  return seconds;
}

import { missingParam, paramInvalid, paramInvalidChars, paramLength } from './errors.ts';

/**
 * Typed access to the merged request parameters (query plus form body), raising the errors
 * Alibaba raises: `Missing<Param>`, `InvalidParameter.<Param>[.Length|.InvalidChars]`.
 * The SDKs validate nothing client side (reference §2.7), so every check happens here.
 */
export class Params {
  readonly raw: Readonly<Record<string, string>>;

  constructor(raw: Record<string, string>) {
    this.raw = raw;
  }

  /** The value, with an empty string counting as absent (the gateway treats them alike). */
  optional(name: string): string | undefined {
    const value = this.raw[name];
    return value === undefined || value === '' ? undefined : value;
  }

  required(name: string): string {
    const value = this.optional(name);
    if (value === undefined) throw missingParam(name);
    return value;
  }

  /** Length in 1..max (after presence), else `InvalidParameter.<name>.Length`. */
  bounded(name: string, max: number, required: boolean): string | undefined {
    const value = required ? this.required(name) : this.optional(name);
    if (value !== undefined && value.length > max) throw paramLength(name);
    return value;
  }

  /** A name of 1..max characters matching `chars` (checked per character). */
  name(name: string, max: number, chars: RegExp, required = true): string | undefined {
    const value = this.bounded(name, max, required);
    if (value !== undefined && ![...value].every((c) => chars.test(c))) {
      throw paramInvalidChars(name);
    }
    return value;
  }

  integer(name: string, min: number, max: number, fallback: number): number {
    const value = this.optional(name);
    if (value === undefined) return fallback;
    if (!/^-?\d+$/.test(value)) throw paramInvalid(name, 'is not a valid integer.');
    const parsed = Number(value);
    if (parsed < min || parsed > max) {
      throw paramInvalid(name, `is out of range: ${min}..${max}.`);
    }
    return parsed;
  }

  boolean(name: string, fallback = false): boolean {
    const value = this.optional(name);
    if (value === undefined) return fallback;
    if (value !== 'true' && value !== 'false') throw paramInvalid(name, 'is not a boolean.');
    return value === 'true';
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], required = true): T | undefined {
    const value = required ? this.required(name) : this.optional(name);
    if (value === undefined) return undefined;
    const found = allowed.find((a) => a.toLowerCase() === value.toLowerCase());
    if (!found) throw paramInvalid(name, `must be one of ${allowed.join(', ')}.`);
    return found;
  }

  /** A JSON-encoded parameter (arrays and structs travel as JSON strings, reference §2.3). */
  json(name: string): unknown {
    const value = this.optional(name);
    if (value === undefined) return undefined;
    try {
      return JSON.parse(value) as unknown;
    } catch {
      throw paramInvalid(name, 'is not valid JSON.');
    }
  }

  stringArray(name: string): string[] | undefined {
    const parsed = this.json(name);
    if (parsed === undefined) return undefined;
    if (!Array.isArray(parsed) || !parsed.every((v) => typeof v === 'string')) {
      throw paramInvalid(name, 'must be a JSON array of strings.');
    }
    return parsed;
  }
}

export interface TagInput {
  key: string;
  value: string | undefined;
}

/** The `Tag` parameter: `[{"Key":"k","Value":"v"}]`; key ≤128, value ≤256 characters. */
export function parseTags(params: Params, name = 'Tag', maxCount = 20): TagInput[] {
  const parsed = params.json(name);
  if (parsed === undefined) return [];
  if (!Array.isArray(parsed)) throw paramInvalid(name, 'must be a JSON array.');
  if (parsed.length > maxCount) throw paramInvalid(name, `allows at most ${maxCount} tags.`);
  return parsed.map((item: unknown) => {
    const entry = (typeof item === 'object' && item !== null ? item : {}) as Record<
      string,
      unknown
    >;
    const key = entry.Key;
    const value = entry.Value;
    if (typeof key !== 'string' || key === '') throw missingParam(`${name}.Key`);
    if (key.length > 128) throw paramLength(`${name}.Key`);
    if (value !== undefined && typeof value !== 'string') {
      throw paramInvalid(`${name}.Value`, 'must be a string.');
    }
    if (typeof value === 'string' && value.length > 256) throw paramLength(`${name}.Value`);
    return { key, value };
  });
}

export const ROLE_NAME_CHARS = /[A-Za-z0-9.-]/;
export const POLICY_NAME_CHARS = /[A-Za-z0-9-]/;

/**
 * The @alicloud SDKs are CommonJS modules whose class is `exports.default`. Under Node's native
 * ESM a default import yields the whole `exports` object, while under the CommonJS transform the
 * tests use it yields the class itself. This returns the class in both worlds.
 */
export function cjsDefault<T>(imported: unknown): T {
  let candidate: unknown = imported;
  for (let depth = 0; depth < 3 && typeof candidate !== 'function'; depth++) {
    if (candidate === null || typeof candidate !== 'object' || !('default' in candidate)) break;
    candidate = candidate.default;
  }
  if (typeof candidate !== 'function') throw new TypeError('module has no default-exported class');
  return candidate as T;
}

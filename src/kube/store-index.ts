/** The key of the indexes by ServiceAccount (bindings and pods): namespace/name. */
export const serviceAccountKey = (namespace: string, serviceAccountName: string): string =>
  `${namespace}/${serviceAccountName}`;

/** Computes the index keys of a cached object (client-go's IndexFunc). */
export type IndexFunc<T> = (object: T) => readonly string[];

/**
 * A secondary index over an informer cache: index key -> the objects under it, kept in step
 * with the cache by `set`/`delete` (client-go's Indexer). Lookups are O(matches), so a question
 * like "which bindings name ServiceAccount ns/sa?" costs the same at 5 bindings as at 5000; a
 * scan of the namespace per reconcile made a burst of N bindings cost O(N²) CPU.
 */
export class StoreIndex<T> {
  readonly #keysOf: IndexFunc<T>;
  /** index key -> (object key -> object) */
  readonly #byKey = new Map<string, Map<string, T>>();
  /** object key -> the index keys it is filed under now (removal needs no old object). */
  readonly #filed = new Map<string, readonly string[]>();

  constructor(keysOf: IndexFunc<T>) {
    this.#keysOf = keysOf;
  }

  /** Files (or re-files) the object stored under `objectKey` (namespace/name). */
  set(objectKey: string, object: T): void {
    this.delete(objectKey);
    const keys = [...new Set(this.#keysOf(object))];
    for (const key of keys) {
      let objects = this.#byKey.get(key);
      if (!objects) {
        objects = new Map();
        this.#byKey.set(key, objects);
      }
      objects.set(objectKey, object);
    }
    if (keys.length > 0) this.#filed.set(objectKey, keys);
  }

  delete(objectKey: string): void {
    const keys = this.#filed.get(objectKey);
    if (!keys) return;
    this.#filed.delete(objectKey);
    for (const key of keys) {
      const objects = this.#byKey.get(key);
      objects?.delete(objectKey);
      if (objects?.size === 0) this.#byKey.delete(key);
    }
  }

  /** The objects filed under `key`, a fresh array (callers may keep it). */
  get(key: string): T[] {
    const objects = this.#byKey.get(key);
    return objects ? [...objects.values()] : [];
  }

  /** How many index keys hold at least one object (for tests and metrics). */
  get size(): number {
    return this.#byKey.size;
  }
}

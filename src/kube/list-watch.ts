import { createInterface } from 'node:readline';
import type { KubeRest } from './rest.ts';

/** The metadata a cached object must have. */
export interface KubeObject {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string } | undefined;
}

export interface ObjectList<T> {
  items: T[];
  metadata?: { resourceVersion?: string } | undefined;
}

type Verb = 'add' | 'update' | 'delete';

export interface ListWatchOptions<T> {
  /**
   * Applied to every listed and watched object before it is cached or handed to listeners:
   * keep only what is read (a fresh literal of one shape per object, ADR 0016).
   */
  project?: ((object: T) => T) | undefined;
  /** The watch's Accept header (a metadata-only watch); the list function sets its own. */
  watchAccept?: string | undefined;
}

interface WatchEvent<T> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T & { code?: number };
}

/**
 * List, then watch from the list's resourceVersion, keeping a cache by namespace and name: the
 * contract of client-node's ListWatch (which its informer is), without its generated models.
 * `start()` resolves once the list is cached (or has failed: the error goes to `error`
 * listeners, as client-node does). A watch that the apiserver ends (its timeout) is resumed from
 * the last resourceVersion; a 410 Gone relists, diffing the cache so deletions made meanwhile
 * fire `delete`; any other failure goes to `error` and stops (the resilient informer restarts).
 */
export class ListWatch<T extends KubeObject> {
  readonly #rest: KubeRest;
  readonly #path: string;
  readonly #list: () => Promise<ObjectList<T>>;
  readonly #labelSelector: string | undefined;
  readonly #options: ListWatchOptions<T>;
  readonly #objects = new Map<string, Map<string, T>>();
  readonly #handlers: Record<Verb | 'error', ((value: never) => void)[]> = {
    add: [],
    update: [],
    delete: [],
    error: [],
  };
  #resourceVersion = '';
  #stopped = true;
  #abort: AbortController | undefined;

  constructor(
    rest: KubeRest,
    path: string,
    list: () => Promise<ObjectList<T>>,
    labelSelector?: string,
    options: ListWatchOptions<T> = {},
  ) {
    this.#rest = rest;
    this.#path = path;
    this.#list = list;
    this.#labelSelector = labelSelector;
    this.#options = options;
  }

  /** `update` handlers also get the object it replaced (a handler may diff the two). */
  on(event: Verb, callback: (object: T, previous?: T) => void): void;
  on(event: 'error', callback: (error?: unknown) => void): void;
  on(event: Verb | 'error', callback: (value: never) => void): void {
    this.#handlers[event].push(callback);
  }

  get(name: string, namespace?: string): T | undefined {
    return this.#objects.get(namespace ?? '')?.get(name);
  }

  list(namespace?: string): T[] {
    if (namespace) return [...(this.#objects.get(namespace)?.values() ?? [])];
    const all: T[] = [];
    for (const inNamespace of this.#objects.values()) all.push(...inNamespace.values());
    return all;
  }

  async start(): Promise<void> {
    this.#stopped = false;
    this.#resourceVersion = '';
    if (await this.#relist()) void this.#watchLoop();
  }

  stop(): Promise<void> {
    this.#stopped = true;
    this.#abort?.abort();
    this.#abort = undefined;
    return Promise.resolve();
  }

  async #relist(): Promise<boolean> {
    let list: ObjectList<T>;
    try {
      list = await this.#list();
    } catch (error) {
      this.#emitError(error);
      return false;
    }
    const listed = new Set<string>();
    for (const object of list.items ?? []) {
      listed.add(keyOf(object));
      this.#upsert(this.#project(object));
    }
    for (const [namespace, inNamespace] of this.#objects)
      for (const [name, object] of inNamespace)
        if (!listed.has(`${namespace}/${name}`)) this.#remove(object);
    this.#resourceVersion = list.metadata?.resourceVersion ?? '';
    return !this.#stopped;
  }

  async #watchLoop(): Promise<void> {
    let quickEnds = 0;
    while (!this.#stopped) {
      const startedAt = Date.now();
      const outcome = await this.#watchOnce();
      // A watch that ends at once, again and again (a proxy closing it), must not spin: back off
      // 1 s doubling to 30 s, as client-node's ListWatch does; a watch that lasted resets it.
      quickEnds = Date.now() - startedAt < 1000 ? quickEnds + 1 : 0;
      if (outcome === 'ended' && quickEnds > 1)
        await new Promise((r) =>
          setTimeout(r, Math.min(1000 * 2 ** (quickEnds - 2), 30_000)).unref(),
        );
      if (outcome === 'gone' && !(await this.#relist())) return;
      if (outcome instanceof Error) {
        if (!this.#stopped) this.#emitError(outcome);
        return;
      }
    }
  }

  /** One watch request: 'ended' when the server closed it, 'gone' on 410, else the error. */
  async #watchOnce(): Promise<'ended' | 'gone' | Error> {
    const abort = new AbortController();
    this.#abort = abort;
    // The apiserver ends the watch after timeoutSeconds (5-10 min, spread as client-go does); a
    // connection that stays silent a minute longer than that is dead and is aborted.
    const timeoutSeconds = 300 + Math.floor(Math.random() * 300);
    const deadline = setTimeout(() => abort.abort(), (timeoutSeconds + 60) * 1000);
    try {
      const response = await this.#rest.stream(
        this.#path,
        {
          watch: 'true',
          resourceVersion: this.#resourceVersion || undefined,
          allowWatchBookmarks: 'true',
          timeoutSeconds: String(timeoutSeconds),
          labelSelector: this.#labelSelector,
        },
        abort.signal,
        this.#options.watchAccept,
      );
      for await (const line of createInterface({ input: response, crlfDelay: Infinity })) {
        if (line.length === 0) continue;
        const event = JSON.parse(line) as WatchEvent<T>;
        if (event.type === 'ERROR') {
          if (event.object.code === 410) return 'gone';
          return Object.assign(new Error(`watch ${this.#path}: ${JSON.stringify(event.object)}`), {
            code: event.object.code,
            body: event.object,
          });
        }
        if (event.type === 'ADDED' || event.type === 'MODIFIED')
          this.#upsert(this.#project(event.object));
        else if (event.type === 'DELETED') this.#remove(this.#project(event.object));
        this.#resourceVersion = event.object.metadata?.resourceVersion ?? this.#resourceVersion;
      }
      return 'ended';
    } catch (error) {
      if ((error as { code?: unknown }).code === 410) return 'gone';
      return error instanceof Error ? error : new Error(String(error));
    } finally {
      clearTimeout(deadline);
      abort.abort();
    }
  }

  #project(object: T): T {
    return this.#options.project ? this.#options.project(object) : object;
  }

  #upsert(object: T): void {
    const namespace = object.metadata?.namespace ?? '';
    const name = object.metadata?.name ?? '';
    let inNamespace = this.#objects.get(namespace);
    if (!inNamespace) {
      inNamespace = new Map<string, T>();
      this.#objects.set(namespace, inNamespace);
    }
    const existing = inNamespace.get(name);
    if (existing?.metadata?.resourceVersion === object.metadata?.resourceVersion && existing)
      return;
    inNamespace.set(name, object);
    this.#emit(existing ? 'update' : 'add', object, existing);
  }

  #remove(object: T): void {
    const namespace = object.metadata?.namespace ?? '';
    const inNamespace = this.#objects.get(namespace);
    const name = object.metadata?.name ?? '';
    const existing = inNamespace?.get(name);
    if (!inNamespace || !existing) return;
    inNamespace.delete(name);
    if (inNamespace.size === 0) this.#objects.delete(namespace);
    this.#emit('delete', object);
  }

  #emit(verb: Verb, object: T, previous?: T): void {
    for (const handler of this.#handlers[verb])
      (handler as (object: T, previous?: T) => void)(object, previous);
  }

  #emitError(error: unknown): void {
    for (const handler of this.#handlers.error) (handler as (error: unknown) => void)(error);
  }
}

function keyOf(object: KubeObject): string {
  return `${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}`;
}

import { systemClock, type Clock } from '../runtime/clock.ts';
import { describeApiError, isTransientApiError } from './api-errors.ts';
import {
  ListWatch,
  type KubeObject,
  type ListWatchOptions,
  type ObjectList,
} from './list-watch.ts';
import type { KubeRest } from './rest.ts';
import { StoreIndex, type IndexFunc } from './store-index.ts';

type KubernetesObject = KubeObject & { metadata?: { managedFields?: unknown } | undefined };
type ListPromise<T> = () => Promise<ObjectList<T>>;

/** The part of an informer (ListWatch) this module drives (a seam for unit tests). */
export interface InformerLike<T> {
  on(event: 'add' | 'update' | 'delete', callback: (object: T, previous?: T) => void): void;
  on(event: 'error', callback: (error?: unknown) => void): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  get(name: string, namespace?: string): T | undefined;
  list(namespace?: string): T[];
}

export type InformerFactory = <T extends KubernetesObject>(
  rest: KubeRest,
  path: string,
  list: ListPromise<T>,
  labelSelector?: string,
  options?: ListWatchOptions<T>,
) => InformerLike<T>;

/** What a PartialObjectMetadata list and watch ask for: metadata only, no spec or secrets. */
export const METADATA_LIST_ACCEPT =
  'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1';
export const METADATA_WATCH_ACCEPT = 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1';

export type InformerEvent = 'add' | 'update' | 'delete';

export interface InformerOptions<T extends KubernetesObject> {
  name: string;
  rest: KubeRest;
  /** API path to list and watch, for example /api/v1/serviceaccounts. */
  path: string;
  /** Defaults to a GET of `path` (with the label selector). */
  list?: ListPromise<T>;
  /** List and watch PartialObjectMetadata: for caches that read metadata only. */
  metadataOnly?: boolean;
  /** Trims each object to what is read before it is cached (see ListWatchOptions). */
  project?: (object: T) => T;
  labelSelector?: string;
  /** `previous`: on update, the cached object this one replaced. */
  onEvent?: (event: InformerEvent, object: T, previous?: T) => void;
  onError?: (error: unknown, retryInMs: number) => void;
  /** Restart backoff bounds; a ListWatch stops for good on any error but a 410 or a timeout. */
  minRetryMs?: number;
  maxRetryMs?: number;
  clock?: Clock;
  random?: () => number;
  /** Defaults to ListWatch. */
  informerFactory?: InformerFactory;
  /** Secondary indexes by name, read with `byIndex` (client-go's Indexers). */
  indexes?: Record<string, IndexFunc<T>>;
}

type LogLevel = 'info' | 'warn';

/**
 * An InformerOptions.onError that logs one line: at info for what the restart fixes by itself
 * (a new CRD's watch cache starting, priority-and-fairness 429s, a restarting apiserver), at warn
 * otherwise.
 */
export function logInformerError(
  log: (level: LogLevel, message: string, fields: Record<string, unknown>) => void,
  what: string,
): (error: unknown, retryInMs: number) => void {
  return (error, retryInMs) =>
    log(isTransientApiError(error) ? 'info' : 'warn', `${what} watch failed; restarting`, {
      error: describeApiError(error),
      retryInMs,
    });
}

/** A read-only view of an informer's cache. */
export interface ObjectStore<T> {
  get(name: string, namespace?: string): T | undefined;
  list(namespace?: string): readonly T[];
  hasSynced(): boolean;
}

export interface ResilientInformer<T> extends ObjectStore<T> {
  /** The cached objects filed under `key` in the index `index` (see InformerOptions.indexes). */
  byIndex(index: string, key: string): readonly T[];
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A ListWatch emits `error` and stops on anything but a watch timeout or a 410 (an apiserver
 * restart, a network error, a 5xx on list). This restarts it with capped exponential backoff and
 * jitter; the backoff resets only once a LIST succeeds (ListWatch's `start()` resolves even
 * when its list failed, so resolving proves nothing). `hasSynced()` is true only after a
 * successful LIST: until then the cache is empty, and acting on it (readiness, reconciles,
 * webhook lookups) would act on an empty world. A restart relists when the resourceVersion is
 * gone, and the cache diff re-fires add/update/delete so no change made during an outage is lost.
 */
export function startResilientInformer<T extends KubernetesObject>(
  options: InformerOptions<T>,
): ResilientInformer<T> {
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const minRetry = options.minRetryMs ?? 500;
  const maxRetry = options.maxRetryMs ?? 30_000;
  let failures = 0;
  let listed = false;
  let synced = false;
  let stopped = false;
  let timer: { cancel(): void } | undefined;

  const fetchList: ListPromise<T> =
    options.list ??
    (() =>
      options.rest.get<ObjectList<T>>(options.path, {
        query: { labelSelector: options.labelSelector },
        accept: options.metadataOnly ? METADATA_LIST_ACCEPT : undefined,
      }));
  const list: ListPromise<T> = async () => {
    const result = await fetchList();
    listed = true;
    failures = 0;
    return result;
  };
  const factory: InformerFactory =
    options.informerFactory ??
    ((rest, path, listFn, labelSelector, listWatchOptions) =>
      new ListWatch(rest, path, listFn, labelSelector, listWatchOptions));
  const informer = factory<T>(options.rest, options.path, list, options.labelSelector, {
    project: options.project,
    watchAccept: options.metadataOnly ? METADATA_WATCH_ACCEPT : undefined,
  });

  const scheduleRestart = (error: unknown): void => {
    if (stopped || timer) return;
    const ceiling = Math.min(minRetry * 2 ** Math.min(failures, 20), maxRetry);
    // Full jitter in [ceiling/2, ceiling]: replicas restarted together do not relist in lockstep.
    const retryMs = Math.round(ceiling / 2 + (ceiling / 2) * random());
    failures++;
    options.onError?.(error, retryMs);
    timer = clock.setTimeout(() => {
      timer = undefined;
      void run();
    }, retryMs);
  };

  const run = async (): Promise<void> => {
    try {
      await informer.start();
    } catch (error) {
      scheduleRestart(error);
    }
    // Only now are the listed items in the cache (ListWatch adds them after the list resolves).
    if (listed) synced = true;
  };

  // ListWatch caches the very object it hands to handlers: dropping managedFields here keeps
  // them out of the cache (controller-runtime's TransformStripManagedFields). They are often half
  // of a small object's size, and nothing reads them from a cache.
  const strip = (object: T): void => {
    if (object.metadata?.managedFields) delete object.metadata.managedFields;
  };
  informer.on('add', strip);
  informer.on('update', strip);
  // Indexes are updated before onEvent runs, so a handler's lookups see the change it is told of.
  const indexes = new Map(
    Object.entries(options.indexes ?? {}).map(([name, keysOf]) => [name, new StoreIndex(keysOf)]),
  );
  if (indexes.size > 0) {
    const file = (object: T): void => {
      for (const index of indexes.values()) index.set(objectKey(object), object);
    };
    informer.on('add', file);
    informer.on('update', file);
    informer.on('delete', (object: T) => {
      for (const index of indexes.values()) index.delete(objectKey(object));
    });
  }
  for (const event of ['add', 'update', 'delete'] as const) {
    informer.on(event, (object: T, previous?: T) => options.onEvent?.(event, object, previous));
  }
  informer.on('error', (error?: unknown) => scheduleRestart(error));

  return {
    get: (name, namespace) => informer.get(name, namespace),
    list: (namespace) => informer.list(namespace),
    byIndex: (name, key) => {
      const index = indexes.get(name);
      if (!index) throw new Error(`informer ${options.name} has no index ${JSON.stringify(name)}`);
      return index.get(key);
    },
    hasSynced: () => synced,
    start: async () => {
      stopped = false;
      await run();
    },
    stop: async () => {
      stopped = true;
      timer?.cancel();
      timer = undefined;
      await informer.stop();
    },
  };
}

function objectKey(object: KubernetesObject): string {
  return `${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}`;
}

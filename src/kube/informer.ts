import {
  makeInformer,
  type KubeConfig,
  type KubernetesObject,
  type ListPromise,
} from '@kubernetes/client-node';
import { describeApiError, isTransientApiError } from './api-errors.ts';

export type InformerEvent = 'add' | 'update' | 'delete';

export interface InformerOptions<T extends KubernetesObject> {
  name: string;
  kubeConfig: KubeConfig;
  /** API path to watch, for example /api/v1/serviceaccounts. */
  path: string;
  list: ListPromise<T>;
  labelSelector?: string;
  onEvent?: (event: InformerEvent, object: T) => void;
  onError?: (error: unknown, retryInMs: number) => void;
  /** Restart backoff bounds; client-node's informer stops for good on any non-timeout error. */
  minRetryMs?: number;
  maxRetryMs?: number;
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
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * client-node's informer emits `error` and stops on anything but a watch timeout (an apiserver
 * restart, a network error, a 5xx on list). This restarts it with exponential backoff; a restart
 * relists when the resourceVersion is gone, and the cache diff re-fires add/update/delete so
 * no change made during an outage is lost for good.
 */
export function startResilientInformer<T extends KubernetesObject>(
  options: InformerOptions<T>,
): ResilientInformer<T> {
  const informer = makeInformer<T>(
    options.kubeConfig,
    options.path,
    options.list,
    options.labelSelector,
  );
  const minRetry = options.minRetryMs ?? 500;
  const maxRetry = options.maxRetryMs ?? 30_000;
  let retryMs = minRetry;
  let synced = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const scheduleRestart = (error: unknown): void => {
    if (stopped || timer) return;
    options.onError?.(error, retryMs);
    timer = setTimeout(() => {
      timer = undefined;
      void run();
    }, retryMs);
    retryMs = Math.min(retryMs * 2, maxRetry);
  };

  const run = async (): Promise<void> => {
    try {
      await informer.start();
      synced = true;
      retryMs = minRetry;
    } catch (error) {
      scheduleRestart(error);
    }
  };

  // client-node caches the very object it hands to handlers: dropping managedFields here keeps
  // them out of the cache (controller-runtime's TransformStripManagedFields). They are often half
  // of a small object's size, and nothing reads them from a cache.
  const strip = (object: T): void => {
    if (object.metadata?.managedFields) delete object.metadata.managedFields;
  };
  informer.on('add', strip);
  informer.on('update', strip);
  for (const event of ['add', 'update', 'delete'] as const) {
    informer.on(event, (object: T) => options.onEvent?.(event, object));
  }
  informer.on('error', (error?: unknown) => scheduleRestart(error));

  return {
    get: (name, namespace) => informer.get(name, namespace),
    list: (namespace) => informer.list(namespace),
    hasSynced: () => synced,
    start: async () => {
      stopped = false;
      await run();
    },
    stop: async () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      await informer.stop();
    },
  };
}

import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The "flow" a piece of work belongs to (the namespace of the binding being reconciled), carried
 * through awaits by AsyncLocalStorage so the RAM limiter can share tokens fairly between
 * namespaces without a parameter threaded through every port and adapter.
 */
const storage = new AsyncLocalStorage<string>();

/** Runs `fn` (and everything it awaits or schedules) as part of `flow`. */
export function runInFlow<T>(flow: string, fn: () => T): T {
  return storage.run(flow, fn);
}

/** The flow of the running work; undefined outside any (start-up discovery, housekeeping). */
export function currentFlow(): string | undefined {
  return storage.getStore();
}

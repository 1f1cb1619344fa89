import { CloudError } from '../cloud/errors.ts';
import type { WorkQueue } from './workqueue.ts';

export interface ReconcileOutcome {
  requeueAfterMs?: number;
}

export interface WorkerHooks {
  onResult?: (
    key: string,
    result: 'success' | 'error',
    durationMs: number,
    error?: unknown,
  ) => void;
}

/** The retry-after an error asks for: a throttled cloud call's, or a RetryableError's. */
export function retryAfterOf(error: unknown): number | undefined {
  if (error instanceof CloudError) return error.retryAfterMs;
  if (error !== null && typeof error === 'object' && 'retryAfterMs' in error) {
    const value = error.retryAfterMs;
    return typeof value === 'number' ? value : undefined;
  }
  return undefined;
}

/** The longest one reconcile may run; every call inside it also has its own deadline. */
export const DEFAULT_RECONCILE_TIMEOUT_MS = 60_000;

/** A failed reconcile that still moved the world forward restarts its backoff. */
export function madeProgress(error: unknown): boolean {
  return (
    error !== null &&
    typeof error === 'object' &&
    'progressed' in error &&
    error.progressed === true
  );
}

/** Adds up to ±10% so thousands of bindings created together do not resync in lockstep. */
export function jitter(ms: number, random: () => number = Math.random): number {
  return Math.round(ms * (0.9 + 0.2 * random()));
}

/**
 * Runs `concurrency` workers until the queue shuts down. Success forgets the key's backoff and
 * schedules its resync; failure re-queues it with exponential backoff, never sooner than the
 * cloud's retry-after.
 */
export async function runWorkers(
  queue: WorkQueue,
  concurrency: number,
  reconcile: (key: string, signal: AbortSignal) => Promise<ReconcileOutcome>,
  hooks: WorkerHooks = {},
  reconcileTimeoutMs = DEFAULT_RECONCILE_TIMEOUT_MS,
): Promise<void> {
  const worker = async (): Promise<void> => {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      const started = performance.now();
      try {
        // controller-runtime's ReconciliationTimeout: the reconcile stops at its next step once
        // this fires (cooperative: the key is never handed to a second worker meanwhile).
        const outcome = await reconcile(key, AbortSignal.timeout(reconcileTimeoutMs));
        queue.forget(key);
        if (outcome.requeueAfterMs !== undefined)
          queue.addAfter(key, jitter(outcome.requeueAfterMs), { replace: true });
        hooks.onResult?.(key, 'success', performance.now() - started);
      } catch (error) {
        // A cloud retry-after (throttling) is the account's state, not this binding's fault: the
        // shared limiter is already paused for it, so the key retries when it ends without
        // growing its own backoff. Other failures back off per key, unless the pass progressed.
        const retryAfter = retryAfterOf(error);
        if (retryAfter !== undefined) queue.addAfter(key, retryAfter);
        else {
          if (madeProgress(error)) queue.forget(key);
          queue.addRateLimited(key);
        }
        hooks.onResult?.(key, 'error', performance.now() - started, error);
      } finally {
        queue.done(key);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

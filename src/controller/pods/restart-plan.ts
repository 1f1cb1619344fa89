import { createHash } from 'node:crypto';
import type { ExpectedIdentity } from './classify.ts';
import { workloadLabel, type Workload } from './report.ts';

/**
 * On the workload: the identity (hash) its last operator restart was for. Read before every
 * restart, so a resync, a second pass or a restarted operator never restarts it again for the
 * same change; a new role or provider ARN is a new hash, and one more restart.
 */
export const RESTARTED_FOR_ANNOTATION = 'rrsa.dev/restarted-for-identity';
/** What `kubectl rollout restart` sets on the pod template. */
export const RESTARTED_AT_ANNOTATION = 'kubectl.kubernetes.io/restartedAt';

export function identityHash(identity: ExpectedIdentity): string {
  return createHash('sha256')
    .update(`${identity.roleArn}\n${identity.oidcProviderArn}`)
    .digest('hex')
    .slice(0, 16);
}

export interface RestartCandidate {
  workload: Workload;
  /** The workload's RESTARTED_FOR_ANNOTATION now; undefined when never restarted by us. */
  recorded: string | undefined;
}

export interface RestartPlan {
  restart: Workload[];
  /** Already restarted for this identity: left alone. */
  done: Workload[];
  /** Over the rate limit: tried again after retryAfterMs. */
  deferred: Workload[];
  retryAfterMs: number | undefined;
}

/**
 * A token bucket over restarts, cluster-wide: a change that makes hundreds of pods stale at once
 * (a namespace labelled, a role renamed) rolls their workloads a few per minute, not all at once.
 */
export class RestartBudget {
  readonly #capacity: number;
  readonly #refillMs: number;
  #tokens: number;
  #updatedAt: number;

  constructor(options: { capacity: number; refillMs: number; now: number }) {
    this.#capacity = options.capacity;
    this.#refillMs = options.refillMs;
    this.#tokens = options.capacity;
    this.#updatedAt = options.now;
  }

  /** Takes one token, or says how long until the next one. */
  take(now: number): { ok: true } | { ok: false; retryAfterMs: number } {
    const elapsed = Math.max(0, now - this.#updatedAt);
    this.#tokens = Math.min(this.#capacity, this.#tokens + elapsed / this.#refillMs);
    this.#updatedAt = now;
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterMs: Math.ceil((1 - this.#tokens) * this.#refillMs) };
  }
}

/** Which workloads to restart now for `hash`, in a stable order, within the budget. */
export function planRestarts(
  candidates: readonly RestartCandidate[],
  hash: string,
  budget: RestartBudget,
  now: number,
): RestartPlan {
  const plan: RestartPlan = { restart: [], done: [], deferred: [], retryAfterMs: undefined };
  const sorted = [...candidates].sort((a, b) =>
    workloadLabel(a.workload) < workloadLabel(b.workload) ? -1 : 1,
  );
  for (const candidate of sorted) {
    if (candidate.recorded === hash) {
      plan.done.push(candidate.workload);
      continue;
    }
    const token = budget.take(now);
    if (token.ok) plan.restart.push(candidate.workload);
    else {
      plan.deferred.push(candidate.workload);
      plan.retryAfterMs = Math.min(plan.retryAfterMs ?? Infinity, token.retryAfterMs);
    }
  }
  return plan;
}

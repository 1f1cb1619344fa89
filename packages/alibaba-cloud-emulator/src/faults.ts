import type { Service } from './context.ts';
import { ApiError, internalError, throttled } from './errors.ts';
import { wildcardMatch } from './policy-eval.ts';

/**
 * Fault injection per action: an error code with an HTTP status, at a rate, a bounded number
 * of times, with added latency and an `x-acs-retry-after` header for throttling. Rates draw
 * from a seeded generator so a seeded run injects the same faults.
 */

export interface FaultSpec {
  /** Action name or glob (`Create*`); default every action. */
  action?: string;
  service?: Service;
  /**
   * Request parameters that must all match (value glob, case-sensitive), e.g.
   * `{ RoleName: '*team-a*' }` to fail only one tenant's roles; default any request.
   */
  params?: Record<string, string>;
  /** Error code to answer with; absent, the rule only adds latency. */
  code?: string;
  /** HTTP status; default 400 for Throttling*, 503 for ServiceUnavailable, else 500. */
  status?: number;
  message?: string;
  /** Probability 0..1 that a matching request is affected; default 1. */
  rate?: number;
  /** Fire at most this many times, then the rule disappears. */
  times?: number;
  latencyMs?: number;
  /** Sets `x-acs-retry-after` (the SDK reads it as milliseconds, reference §2.7). */
  retryAfterMs?: number;
}

export interface FaultRule extends FaultSpec {
  id: string;
  fired: number;
}

export interface FaultOutcome {
  latencyMs: number;
  error: ApiError | undefined;
}

function defaultStatus(code: string): number {
  if (code.includes('Throttling')) return 400; // [unconfirmed]; the SDK classifies by code
  if (code === 'ServiceUnavailable') return 503;
  return 500;
}

function errorFor(rule: FaultRule): ApiError {
  const code = rule.code ?? 'InternalError';
  const status = rule.status ?? defaultStatus(code);
  const headers: Record<string, string> =
    rule.retryAfterMs !== undefined ? { 'x-acs-retry-after': String(rule.retryAfterMs) } : {};
  let message = rule.message;
  if (message === undefined) {
    if (code.includes('Throttling')) message = throttled(code, status).message;
    else if (code === 'InternalError') message = internalError().message;
    else if (code === 'ServiceUnavailable') {
      message = 'The request has failed due to a temporary failure of the server.';
    } else message = `Injected fault ${code}.`;
  }
  return new ApiError(code, status, message, {}, headers);
}

function paramsMatch(rule: FaultRule, params: Record<string, string>): boolean {
  return Object.entries(rule.params ?? {}).every(
    ([name, pattern]) => params[name] !== undefined && wildcardMatch(pattern, params[name]),
  );
}

export class FaultInjector {
  private rules: FaultRule[] = [];
  private nextId = 1;
  private readonly random: () => number;

  constructor(random: () => number) {
    this.random = random;
  }

  add(spec: FaultSpec): FaultRule {
    const rate = spec.rate ?? 1;
    if (!(rate >= 0 && rate <= 1)) throw new RangeError('rate must be within 0..1');
    const rule: FaultRule = { ...spec, rate, id: `fault-${this.nextId++}`, fired: 0 };
    this.rules.push(rule);
    return rule;
  }

  /** Throttle an action with `Throttling.User` and a retry-after hint. */
  throttle(action: string, options: Omit<FaultSpec, 'action' | 'code'> = {}): FaultRule {
    return this.add({ retryAfterMs: 1000, ...options, action, code: 'Throttling.User' });
  }

  remove(id: string): boolean {
    const before = this.rules.length;
    this.rules = this.rules.filter((r) => r.id !== id);
    return this.rules.length < before;
  }

  clear(): void {
    this.rules = [];
  }

  list(): FaultRule[] {
    return this.rules.map((r) => ({ ...r }));
  }

  /** What happens to one request: total added latency and at most one error. */
  evaluate(
    service: Service | undefined,
    action: string,
    params: Record<string, string> = {},
  ): FaultOutcome {
    let latencyMs = 0;
    let error: ApiError | undefined;
    for (const rule of this.rules) {
      const matches =
        (rule.service === undefined || rule.service === service) &&
        wildcardMatch(rule.action ?? '*', action, true) &&
        paramsMatch(rule, params);
      if (!matches || (rule.code !== undefined && error)) continue;
      if (this.random() >= (rule.rate ?? 1)) continue;
      rule.fired++;
      if (rule.times !== undefined) rule.times--;
      latencyMs += rule.latencyMs ?? 0;
      if (rule.code !== undefined) error = errorFor(rule);
    }
    this.rules = this.rules.filter((r) => r.times === undefined || r.times > 0);
    return { latencyMs, error };
  }
}

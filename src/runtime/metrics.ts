import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CloudError } from '../cloud/errors.ts';
import type { TokenBucket } from './rate-limiter.ts';
import type { CallHooks } from '../cloud/call.ts';

/** The operator's Prometheus metrics, on a registry of its own (no global state in tests). */
export interface ControllerMetrics {
  registry: Registry;
  reconciles: Counter<'result'>;
  reconcileDuration: Histogram;
  reconcileErrors: Counter<'reason'>;
  queueDepth: Gauge;
  resyncPeriod: Gauge;
  queueAdds: Counter;
  queueRetries: Counter;
  cloudCalls: Counter<'service' | 'action' | 'code'>;
  cloudCallDuration: Histogram<'service' | 'action'>;
  /** Pods of bound ServiceAccounts running with a stale identity (controller/pods/). */
  stalePods: Gauge<'namespace'>;
}

export function createControllerMetrics(registry = new Registry()): ControllerMetrics {
  const registers = [registry];
  return {
    registry,
    reconciles: new Counter({
      name: 'rrsa_reconcile_total',
      help: 'Reconciles by result',
      labelNames: ['result'],
      registers,
    }),
    reconcileDuration: new Histogram({
      name: 'rrsa_reconcile_duration_seconds',
      help: 'Reconcile duration',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    reconcileErrors: new Counter({
      name: 'rrsa_reconcile_errors_total',
      help: 'Failed reconciles by reason',
      labelNames: ['reason'],
      registers,
    }),
    queueDepth: new Gauge({
      name: 'rrsa_workqueue_depth',
      help: 'Keys waiting in the work queue',
      registers,
    }),
    resyncPeriod: new Gauge({
      name: 'rrsa_resync_period_seconds',
      help: 'Current drift-check period per binding (the configured one, stretched to stay within half the RAM rate limit)',
      registers,
    }),
    queueAdds: new Counter({
      name: 'rrsa_workqueue_adds_total',
      help: 'Keys added to the work queue',
      registers,
    }),
    queueRetries: new Counter({
      name: 'rrsa_workqueue_retries_total',
      help: 'Keys re-queued after a failure',
      registers,
    }),
    cloudCalls: new Counter({
      name: 'rrsa_cloud_calls_total',
      help: 'Alibaba Cloud API calls by service, action and result code ("OK" on success)',
      labelNames: ['service', 'action', 'code'],
      registers,
    }),
    cloudCallDuration: new Histogram({
      name: 'rrsa_cloud_call_duration_seconds',
      help: 'Alibaba Cloud API call duration',
      labelNames: ['service', 'action'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    stalePods: new Gauge({
      name: 'rrsa_stale_pods',
      help: 'Pods of bound ServiceAccounts that lack, or carry another, identity than the webhook injects now',
      labelNames: ['namespace'],
      registers,
    }),
  };
}

export function collectProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry, prefix: 'rrsa_' });
}

/**
 * callCloud hooks: RAM calls wait for the shared token bucket (and a throttled answer pauses
 * it for the retry-after); every call is counted by action and Alibaba error code.
 */
export function cloudCallHooks(metrics: ControllerMetrics, ramLimiter?: TokenBucket): CallHooks {
  return {
    beforeCall: async (service) => {
      if (service === 'ram' && ramLimiter) await ramLimiter.acquire();
    },
    afterCall: (service, action, code, durationMs) => {
      metrics.cloudCalls.inc({ service, action, code });
      metrics.cloudCallDuration.observe({ service, action }, durationMs / 1000);
    },
    onError: (error: CloudError) => {
      if (error.kind === 'Throttled' && ramLimiter) ramLimiter.pause(error.retryAfterMs ?? 1000);
    },
  };
}

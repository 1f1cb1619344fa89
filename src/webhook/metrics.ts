import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Every admission ends in exactly one outcome (mutation outcomes plus the request-level ones). */
export type AdmissionOutcome =
  | 'Injected'
  | 'Unchanged'
  | 'NotSelected'
  | 'OptedOut'
  | 'ExcludedNamespace'
  | 'ServiceAccountMissing'
  | 'LookupFailed'
  | 'Rejected'
  | 'NoRoleAnnotation'
  | 'InvalidRoleName'
  | 'NoContainersSelected'
  | 'Ignored'
  | 'BadRequest';

export interface WebhookMetrics {
  admissions: Counter<'outcome'>;
  latency: Histogram<'outcome'>;
  missingServiceAccounts: Counter;
  certificateExpiry: Gauge;
}

/** What the admission queue gauges read when scraped (AdmissionGate and ReadThrottle). */
export interface AdmissionQueue {
  readonly active: number;
  readonly waiting: number;
  readonly parked: number;
}

/** Registered on the registry the manager serves on /metrics (one per process). */
export function createWebhookMetrics(registry: Registry, queue?: AdmissionQueue): WebhookMetrics {
  if (queue) {
    const gauge = (name: string, help: string, read: () => number): void => {
      new Gauge({
        name,
        help,
        registers: [registry],
        collect() {
          this.set(read());
        },
      });
    };
    gauge(
      'rrsa_webhook_admissions_in_progress',
      'Admissions being read, decided or answered (at most maxConcurrentAdmissions).',
      () => queue.active,
    );
    gauge(
      'rrsa_webhook_admissions_waiting',
      'Admissions received whose turn has not come (their body unread).',
      () => queue.waiting,
    );
    gauge(
      'rrsa_webhook_connections_parked',
      'Idle keep-alive connections not read from while every admission slot is taken.',
      () => queue.parked,
    );
  }
  return {
    admissions: new Counter({
      name: 'rrsa_webhook_admissions_total',
      help: 'Pod admission requests handled, by outcome.',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    latency: new Histogram({
      name: 'rrsa_webhook_admission_duration_seconds',
      help: 'Time from request received to response written, by outcome.',
      labelNames: ['outcome'],
      // The apiserver's timeout is seconds; the interesting range is 0.1 ms .. 1 s.
      buckets: [
        0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 2.5,
      ],
      registers: [registry],
    }),
    missingServiceAccounts: new Counter({
      name: 'rrsa_webhook_missing_service_accounts_total',
      help: 'Pods that opted in but whose ServiceAccount could not be found (or read) at admission.',
      registers: [registry],
    }),
    certificateExpiry: new Gauge({
      name: 'rrsa_webhook_certificate_expiry_timestamp_seconds',
      help: 'notAfter of the serving certificate in use, as a Unix timestamp.',
      registers: [registry],
    }),
  };
}

import type { Service } from './context.ts';

/**
 * The request log and per-action counters tests assert on (for example "the steady-state
 * resync made zero RAM write calls"). Every API request is counted, failed ones included;
 * admin calls are not.
 */

export interface RequestRecord {
  seq: number;
  time: string;
  service: Service | undefined;
  action: string;
  version: string | undefined;
  /** Whether the action changes state (CreateRole yes, GetRole no, AssumeRole* no). */
  write: boolean;
  caller: string;
  accessKeyId: string | undefined;
  status: number;
  /** The error code, or undefined on success. */
  code: string | undefined;
  requestId: string;
  durationMs: number;
  /** Request parameters with secrets (tokens, signatures) redacted. */
  params: Record<string, string>;
  /** Set when an injected fault produced the error or latency. */
  faulted: boolean;
}

export interface RequestFilter {
  action?: string;
  service?: Service;
  write?: boolean;
  /** Only failures (true) or only successes (false). */
  failed?: boolean;
  /** Only entries with a larger sequence number. */
  since?: number;
}

export interface ServiceCounter {
  calls: number;
  reads: number;
  writes: number;
  errors: number;
}

export interface ActionCounter {
  service: Service | undefined;
  write: boolean;
  calls: number;
  errors: number;
}

export interface CountersSnapshot extends ServiceCounter {
  byService: Record<Service, ServiceCounter>;
  byAction: Record<string, ActionCounter>;
}

const SECRET_PARAMS = new Set(['Signature', 'SecurityToken', 'OIDCToken', 'AccessKeySecret']);

export function redactParams(params: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(params)) {
    out[key] = SECRET_PARAMS.has(key) ? `<redacted ${value.length} chars>` : value;
  }
  return out;
}

function emptyCounter(): ServiceCounter {
  return { calls: 0, reads: 0, writes: 0, errors: 0 };
}

function bump(counter: ServiceCounter, write: boolean, failed: boolean): void {
  counter.calls++;
  if (write) counter.writes++;
  else counter.reads++;
  if (failed) counter.errors++;
}

export function matchesFilter(entry: RequestRecord, filter: RequestFilter): boolean {
  return (
    (filter.action === undefined || entry.action === filter.action) &&
    (filter.service === undefined || entry.service === filter.service) &&
    (filter.write === undefined || entry.write === filter.write) &&
    (filter.failed === undefined || (entry.code !== undefined) === filter.failed) &&
    (filter.since === undefined || entry.seq > filter.since)
  );
}

export class RequestRecorder {
  private log: RequestRecord[] = [];
  private seq = 0;
  private totals = emptyCounter();
  private services: Record<Service, ServiceCounter> = {
    ram: emptyCounter(),
    sts: emptyCounter(),
    ims: emptyCounter(),
  };
  private actions = new Map<string, ActionCounter>();
  private readonly limit: number;

  constructor(limit = 5000) {
    this.limit = limit;
  }

  nextSeq(): number {
    return ++this.seq;
  }

  /** The sequence number of the latest request (pass it as `since` to see only newer ones). */
  get lastSeq(): number {
    return this.seq;
  }

  record(entry: RequestRecord): void {
    this.log.push(entry);
    if (this.log.length > this.limit) this.log.splice(0, this.log.length - this.limit);
    const failed = entry.code !== undefined;
    bump(this.totals, entry.write, failed);
    if (entry.service) bump(this.services[entry.service], entry.write, failed);
    const key = entry.action;
    const counter = this.actions.get(key) ?? {
      service: entry.service,
      write: entry.write,
      calls: 0,
      errors: 0,
    };
    counter.calls++;
    if (failed) counter.errors++;
    this.actions.set(key, counter);
  }

  entries(filter: RequestFilter = {}): RequestRecord[] {
    return this.log.filter((e) => matchesFilter(e, filter)).map((e) => ({ ...e }));
  }

  count(filter: RequestFilter = {}): number {
    return this.log.filter((e) => matchesFilter(e, filter)).length;
  }

  counters(): CountersSnapshot {
    return {
      ...this.totals,
      byService: {
        ram: { ...this.services.ram },
        sts: { ...this.services.sts },
        ims: { ...this.services.ims },
      },
      byAction: Object.fromEntries([...this.actions].map(([k, v]) => [k, { ...v }])),
    };
  }

  clear(): void {
    this.log = [];
    this.totals = emptyCounter();
    this.services = { ram: emptyCounter(), sts: emptyCounter(), ims: emptyCounter() };
    this.actions.clear();
  }
}

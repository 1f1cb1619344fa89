import { createHash } from 'node:crypto';
import type { KubeRest } from './rest.ts';

export interface InvolvedObject {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  uid?: string | undefined;
}

export type EventType = 'Normal' | 'Warning';

export interface EventSink {
  record(object: InvolvedObject, type: EventType, reason: string, message: string): void;
}

/**
 * Writes core/v1 Events. A repeat of an object's latest (reason, message) is written at most once
 * per `dedupeWindowMs`, so a binding stuck in a retry loop does not flood etcd; anything else is a
 * transition and is always written (Bound -> GuardrailViolation -> Bound within the window must
 * end with a Bound Event, or the Warning would read as the current state). Failures to write an
 * Event are logged and dropped: an Event is a courtesy, never a reason to fail a reconcile.
 */
export class KubeEventSink implements EventSink {
  readonly #rest: Pick<KubeRest, 'request'>;
  readonly #component: string;
  readonly #dedupeWindowMs: number;
  /** Per object: its latest (reason, message) and when it was written. */
  readonly #recent = new Map<string, { what: string; at: number }>();
  readonly #onError: (error: unknown) => void;
  readonly #now: () => number;

  constructor(
    rest: Pick<KubeRest, 'request'>,
    options: {
      component?: string;
      dedupeWindowMs?: number;
      onError?: (error: unknown) => void;
      now?: () => number;
    } = {},
  ) {
    this.#now = options.now ?? Date.now;
    this.#rest = rest;
    this.#component = options.component ?? 'rrsa-operator';
    this.#dedupeWindowMs = options.dedupeWindowMs ?? 600_000;
    this.#onError = options.onError ?? (() => undefined);
  }

  record(object: InvolvedObject, type: EventType, reason: string, message: string): void {
    const key = `${object.namespace}/${object.kind}/${object.name}/${object.uid ?? ''}`;
    // A digest, not the message (up to 1 KiB), is what each of thousands of objects keeps.
    const what = createHash('sha1').update(`${type}/${reason}/${message}`).digest('base64');
    const now = this.#now();
    const last = this.#recent.get(key);
    if (last?.what === what && now - last.at < this.#dedupeWindowMs) return;
    this.#recent.set(key, { what, at: now });
    if (this.#recent.size > 10_000) this.#prune(now);
    const timestamp = new Date(now);
    this.#rest
      .request('POST', `/api/v1/namespaces/${encodeURIComponent(object.namespace)}/events`, {
        body: {
          apiVersion: 'v1',
          kind: 'Event',
          metadata: { generateName: `${object.name}.`, namespace: object.namespace },
          involvedObject: {
            apiVersion: object.apiVersion,
            kind: object.kind,
            namespace: object.namespace,
            name: object.name,
            ...(object.uid ? { uid: object.uid } : {}),
          },
          type,
          reason,
          message: message.slice(0, 1024),
          source: { component: this.#component },
          reportingComponent: this.#component,
          reportingInstance: process.env.HOSTNAME ?? this.#component,
          firstTimestamp: timestamp.toISOString(),
          lastTimestamp: timestamp.toISOString(),
          count: 1,
        },
      })
      .catch(this.#onError);
  }

  #prune(now: number): void {
    for (const [key, last] of this.#recent) {
      if (now - last.at >= this.#dedupeWindowMs) this.#recent.delete(key);
    }
  }
}

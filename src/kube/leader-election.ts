import type { CoordinationV1Api, V1Lease } from '@kubernetes/client-node';
import { decideLeader, microTime, type LeaseRecord } from '../runtime/leader-decision.ts';
import { isConflict, isNotFound } from './client.ts';

export interface LeaderElectionOptions {
  coordination: CoordinationV1Api;
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
  onError?: (error: unknown) => void;
  now?: () => number;
}

/**
 * Leader election on a Lease, as client-go does it: try every retryPeriod; renew while leading;
 * if renewals keep failing past renewDeadline, stop leading (another replica may take over after
 * the lease expires). `stop` releases the lease (holder cleared) so a successor starts at once.
 * Writes use resourceVersion optimistic concurrency: two candidates can never both win.
 */
export class LeaderElector {
  readonly #o: Required<Omit<LeaderElectionOptions, 'onError'>> &
    Pick<LeaderElectionOptions, 'onError'>;
  #leading = false;
  #lastRenewMs = 0;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #cycle: Promise<void> = Promise.resolve();
  #observedVersion: string | undefined;
  #observedAtMs = 0;

  constructor(options: LeaderElectionOptions) {
    this.#o = {
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
      now: Date.now,
      ...options,
    };
  }

  isLeader(): boolean {
    return this.#leading;
  }

  start(): void {
    this.#stopped = false;
    this.#schedule(0);
  }

  /** Stops trying; releases the lease if held. */
  async stop(release = true): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#cycle;
    if (this.#leading) {
      this.#leading = false;
      if (release) await this.#release().catch((error: unknown) => this.#o.onError?.(error));
      this.#o.onStoppedLeading();
    }
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#cycle = this.#tryOnce().finally(() => this.#schedule(this.#o.retryPeriodMs));
    }, ms);
  }

  async #tryOnce(): Promise<void> {
    let won = false;
    try {
      won = await this.#tryAcquireOrRenew();
    } catch (error) {
      this.#o.onError?.(error);
    }
    if (this.#stopped) return;
    const now = this.#o.now();
    if (won) {
      this.#lastRenewMs = now;
      if (!this.#leading) {
        this.#leading = true;
        this.#o.onStartedLeading();
      }
    } else if (this.#leading && now - this.#lastRenewMs > this.#o.renewDeadlineMs) {
      this.#leading = false;
      this.#o.onStoppedLeading();
    }
  }

  async #tryAcquireOrRenew(): Promise<boolean> {
    const { coordination, namespace, name, identity } = this.#o;
    const existing = await this.#read();
    const now = this.#o.now();
    // Expiry is measured on this replica's clock from when it last saw the Lease change (as
    // client-go does), never from the holder's renewTime: node clocks may disagree.
    const version = existing?.metadata?.resourceVersion;
    if (version !== this.#observedVersion) {
      this.#observedVersion = version;
      this.#observedAtMs = now;
    }
    const record = existing && { ...toRecord(existing), renewTimeMs: this.#observedAtMs };
    const action = decideLeader(record, identity, now);
    if (action.kind === 'wait') return false;
    const spec = {
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(this.#o.leaseDurationMs / 1000),
      renewTime: microTime(now),
      ...(action.kind === 'renew'
        ? {}
        : {
            acquireTime: microTime(now),
            leaseTransitions: action.kind === 'acquire' ? action.transitions : 0,
          }),
    };
    try {
      if (!existing) {
        await coordination.createNamespacedLease({
          namespace,
          body: { metadata: { name, namespace }, spec: spec as unknown as V1Lease['spec'] },
        });
      } else {
        await coordination.replaceNamespacedLease({
          name,
          namespace,
          body: { ...existing, spec: { ...existing.spec, ...spec } as unknown as V1Lease['spec'] },
        });
      }
      return true;
    } catch (error) {
      if (isConflict(error)) return false; // someone else wrote first
      throw error;
    }
  }

  async #read(): Promise<V1Lease | undefined> {
    try {
      return await this.#o.coordination.readNamespacedLease({
        name: this.#o.name,
        namespace: this.#o.namespace,
      });
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async #release(): Promise<void> {
    const lease = await this.#read();
    if (!lease || lease.spec?.holderIdentity !== this.#o.identity) return;
    await this.#o.coordination.replaceNamespacedLease({
      name: this.#o.name,
      namespace: this.#o.namespace,
      body: {
        ...lease,
        spec: {
          ...lease.spec,
          holderIdentity: '',
          leaseDurationSeconds: 1,
          renewTime: microTime(this.#o.now()),
        } as unknown as V1Lease['spec'],
      },
    });
  }
}

function toRecord(lease: V1Lease): LeaseRecord {
  const renew = lease.spec?.renewTime as unknown as string | Date | undefined;
  return {
    holderIdentity: lease.spec?.holderIdentity,
    leaseDurationSeconds: lease.spec?.leaseDurationSeconds,
    renewTimeMs: renew === undefined ? undefined : new Date(renew).getTime(),
    leaseTransitions: lease.spec?.leaseTransitions,
  };
}

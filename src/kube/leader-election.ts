import type { V1Lease } from '@kubernetes/client-node';
import { systemClock, type Clock } from '../runtime/clock.ts';
import { decideLeader, microTime, type LeaseRecord } from '../runtime/leader-decision.ts';
import { isConflict } from './api-status.ts';
import type { KubeRest } from './rest.ts';
import { kubeLeaseClient, type LeaseClient } from './lease-client.ts';

export interface LeaderElectionOptions {
  /** The Lease calls; built from `rest` when not given (tests pass an in-memory one). */
  leases?: LeaseClient;
  rest?: KubeRest;
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
  onError?: (error: unknown) => void;
  clock?: Clock;
}

/**
 * Leader election on a Lease, as client-go does it: try every retryPeriod; renew while leading.
 * Leadership is bounded by time, not by call completion: the moment `renewDeadline` has passed
 * since the last successful renew, this replica stops leading (a watchdog timer, so a hung
 * apiserver call cannot keep it leader), and every Lease call is aborted at that same deadline.
 * With renewDeadline < leaseDuration, this replica has stopped before any other may acquire.
 * `stop` releases the lease (holder cleared) so a successor starts at once. Writes use
 * resourceVersion optimistic concurrency: two candidates can never both win.
 */
export class LeaderElector {
  readonly #o: Required<Omit<LeaderElectionOptions, 'onError' | 'leases' | 'rest'>> &
    Pick<LeaderElectionOptions, 'onError'>;
  readonly #leases: LeaseClient;
  #leading = false;
  #lastRenewMs = 0;
  #timer: { cancel(): void } | undefined;
  #watchdog: { cancel(): void } | undefined;
  #inFlight: AbortController | undefined;
  #stopped = false;
  #cycle: Promise<void> = Promise.resolve();
  #observedVersion: string | undefined;
  #observedAtMs = 0;

  constructor(options: LeaderElectionOptions) {
    const { leases, rest: kube, onError, ...rest } = options;
    this.#o = {
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
      clock: systemClock,
      ...rest,
      onError,
    };
    if (this.#o.renewDeadlineMs >= this.#o.leaseDurationMs)
      throw new Error('leader election: renewDeadline must be shorter than leaseDuration');
    if (leases) this.#leases = leases;
    else if (kube) this.#leases = kubeLeaseClient(kube, rest.namespace, rest.name);
    else throw new Error('leader election needs `leases` or `rest`');
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
    this.#timer?.cancel();
    this.#inFlight?.abort(new Error('leader election stopped'));
    await this.#cycle;
    if (this.#leading) {
      this.#watchdog?.cancel();
      this.#leading = false;
      if (release) await this.#release().catch((error: unknown) => this.#o.onError?.(error));
      this.#o.onStoppedLeading();
    }
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer = this.#o.clock.setTimeout(() => {
      this.#cycle = this.#tryOnce().finally(() => this.#schedule(this.#o.retryPeriodMs));
    }, ms);
  }

  /** The deadline of the current attempt: the renew deadline while leading, else one period. */
  #attemptDeadlineMs(): number {
    const { clock, renewDeadlineMs } = this.#o;
    if (this.#leading) return Math.max(0, this.#lastRenewMs + renewDeadlineMs - clock.now());
    return renewDeadlineMs;
  }

  async #tryOnce(): Promise<void> {
    const controller = new AbortController();
    this.#inFlight = controller;
    // Leadership is counted from when the attempt started, not when it returned: the write may
    // have landed at the start, and other replicas count the lease from when they saw it.
    const startedMs = this.#o.clock.now();
    const abort = this.#o.clock.setTimeout(
      () => controller.abort(new Error('lease call deadline exceeded')),
      this.#attemptDeadlineMs(),
    );
    let won = false;
    try {
      won = await this.#tryAcquireOrRenew(controller.signal);
    } catch (error) {
      this.#o.onError?.(error);
    } finally {
      abort.cancel();
      this.#inFlight = undefined;
    }
    // A renew that completed after the watchdog fired does not bring leadership back mid-cycle:
    // the next attempt acquires it again like any other candidate would.
    if (this.#stopped || controller.signal.aborted) return;
    if (won) {
      this.#lastRenewMs = startedMs;
      this.#armWatchdog(startedMs + this.#o.renewDeadlineMs - this.#o.clock.now());
      if (!this.#leading) {
        this.#leading = true;
        this.#o.onStartedLeading();
      }
    }
  }

  #armWatchdog(ms: number): void {
    this.#watchdog?.cancel();
    this.#watchdog = this.#o.clock.setTimeout(() => this.#loseLeadership(), ms);
  }

  #loseLeadership(): void {
    if (!this.#leading) return;
    this.#leading = false;
    this.#inFlight?.abort(new Error('renew deadline passed'));
    this.#o.onStoppedLeading();
  }

  async #tryAcquireOrRenew(signal: AbortSignal): Promise<boolean> {
    const { identity, clock } = this.#o;
    const existing = await this.#leases.read(signal);
    const now = clock.now();
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
      if (!existing) await this.#leases.create(spec as unknown as V1Lease['spec'], signal);
      else
        await this.#leases.replace(
          { ...existing, spec: { ...existing.spec, ...spec } as unknown as V1Lease['spec'] },
          signal,
        );
      return true;
    } catch (error) {
      if (isConflict(error)) return false; // someone else wrote first
      throw error;
    }
  }

  async #release(): Promise<void> {
    const signal = AbortSignal.timeout(this.#o.renewDeadlineMs);
    const lease = await this.#leases.read(signal);
    if (!lease || lease.spec?.holderIdentity !== this.#o.identity) return;
    await this.#leases.replace(
      {
        ...lease,
        spec: {
          ...lease.spec,
          holderIdentity: '',
          leaseDurationSeconds: 1,
          renewTime: microTime(this.#o.clock.now()),
        } as unknown as V1Lease['spec'],
      },
      signal,
    );
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

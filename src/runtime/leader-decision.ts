/** The parts of a coordination.k8s.io/v1 Lease that leader election reads. */
export interface LeaseRecord {
  holderIdentity: string | undefined;
  leaseDurationSeconds: number | undefined;
  renewTimeMs: number | undefined;
  leaseTransitions: number | undefined;
}

export type LeaderAction =
  | { kind: 'create' }
  | { kind: 'renew' }
  | { kind: 'acquire'; transitions: number }
  | { kind: 'wait'; holder: string; expiresInMs: number };

/**
 * client-go's rule: renew what we hold; take over a lease that is unheld (released) or whose
 * holder stopped renewing for longer than the lease duration; otherwise wait.
 */
export function decideLeader(
  lease: LeaseRecord | undefined,
  identity: string,
  nowMs: number,
): LeaderAction {
  if (!lease) return { kind: 'create' };
  const holder = lease.holderIdentity ?? '';
  if (holder === identity) return { kind: 'renew' };
  const transitions = (lease.leaseTransitions ?? 0) + 1;
  if (holder === '') return { kind: 'acquire', transitions };
  const expiresAt = (lease.renewTimeMs ?? 0) + (lease.leaseDurationSeconds ?? 0) * 1000;
  if (expiresAt <= nowMs) return { kind: 'acquire', transitions };
  return { kind: 'wait', holder, expiresInMs: expiresAt - nowMs };
}

/** Lease times are MicroTime: RFC 3339 with exactly six fractional digits. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

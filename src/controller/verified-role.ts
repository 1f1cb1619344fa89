import type { PodIdentityBinding, PolicySpec, RoleOwnershipMode } from '../api/types.ts';
import type { InlinePolicyStatus } from '../api/types.ts';

/**
 * What a pass that converged a binding's RAM side learned, kept so that passes queued by
 * Kubernetes events (the operator's own ServiceAccount create and annotate, a namespace label,
 * another binding of the same ServiceAccount) do not re-read RAM: those events cannot change
 * RAM, and each re-read spent shared RAM budget in the binding's namespace just when a fresh
 * binding there was converging (issue 11, fairness: a Ready binding's echo passes doubled the
 * time-to-Ready of the next one while another namespace kept the limiter busy).
 *
 * Drift in RAM is still seen within a resync period: a record is fresh for less than one period
 * after its RAM check, so the resync pass always reads RAM. A record is for one generation of one
 * binding object (uid): a spec change, a delete and re-create, or a failed pass reads RAM again.
 */
export interface VerifiedRole {
  /** `uid/generation` of the binding when RAM matched it. */
  fingerprint: string;
  checkedAtMs: number;
  ownership: RoleOwnershipMode;
  attachedPolicies: PolicySpec[];
  inlinePolicies: InlinePolicyStatus[];
}

export function roleFingerprint(binding: PodIdentityBinding): string {
  return `${binding.metadata.uid ?? ''}/${binding.metadata.generation ?? 0}`;
}

/** The record if it still vouches for this binding at `nowMs`; `freshMs` is how long it does. */
export function freshVerification(
  record: VerifiedRole | undefined,
  binding: PodIdentityBinding,
  nowMs: number,
  freshMs: number,
): VerifiedRole | undefined {
  if (!record || record.fingerprint !== roleFingerprint(binding)) return undefined;
  const age = nowMs - record.checkedAtMs;
  return age >= 0 && age < freshMs ? record : undefined;
}

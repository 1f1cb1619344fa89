import type { PolicyRef } from '../cloud/ports.ts';

export function policyKey(p: PolicyRef): string {
  return `${p.type}:${p.name}`;
}

export interface PolicyPlan {
  attach: PolicyRef[];
  detach: PolicyRef[];
}

/**
 * Which policies to attach and detach. On a role we own, the binding's list is the whole truth:
 * anything else attached (by hand, in the console) is drift and is detached. On an adopted role
 * we only ever detach what this binding attached itself (recorded in status).
 */
export function planPolicies(input: {
  desired: readonly PolicyRef[];
  attached: readonly PolicyRef[];
  roleIsOwned: boolean;
  attachedByBinding: readonly PolicyRef[];
}): PolicyPlan {
  const desired = new Set(input.desired.map(policyKey));
  const attached = new Set(input.attached.map(policyKey));
  const ours = new Set(input.attachedByBinding.map(policyKey));
  return {
    attach: dedupe(input.desired).filter((p) => !attached.has(policyKey(p))),
    detach: input.attached.filter(
      (p) => !desired.has(policyKey(p)) && (input.roleIsOwned || ours.has(policyKey(p))),
    ),
  };
}

function dedupe(policies: readonly PolicyRef[]): PolicyRef[] {
  const seen = new Set<string>();
  return policies.filter((p) => {
    const key = policyKey(p);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Order-insensitive, duplicate-insensitive equality of two policy lists. */
export function samePolicies(a: readonly PolicyRef[], b: readonly PolicyRef[]): boolean {
  const left = new Set(a.map(policyKey));
  const right = new Set(b.map(policyKey));
  return left.size === right.size && [...left].every((k) => right.has(k));
}

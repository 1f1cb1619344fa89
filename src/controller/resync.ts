import type { PodIdentityBinding } from '../api/types.ts';

/**
 * RAM reads one drift check of a converged binding makes: GetRole plus one of ListTagResources
 * and ListPoliciesForRole, alternating (drift-check.ts), plus one GetPolicy per distinct Custom
 * policy (the grant guardrail, policy-guard.ts, judges their documents on every pass).
 */
export function readsPerCheck(binding: PodIdentityBinding): number {
  const custom = new Set(
    (binding.spec.role?.policies ?? [])
      .filter((p) => p.type === 'Custom')
      .map((p) => p.name.toLowerCase()),
  );
  return 2 + custom.size;
}

/**
 * How long a converged binding waits before its next drift check. If every binding were checked
 * each configured period, a large cluster would spend the whole RAM rate limit on resyncs and
 * starve new and changed bindings (at 5000 bindings, 10 RAM calls/s and 10 min, checks alone need
 * 17 min of budget). So the period stretches until resyncs use at most `budgetShare` of the
 * limit. `reads` is what one round of checks costs over all bindings (sum of readsPerCheck);
 * without it, `bindings` checks of two reads each.
 */
export function resyncPeriodMs(input: {
  configuredMs: number;
  bindings: number;
  ramQps: number;
  reads?: number;
  budgetShare?: number;
}): number {
  const reads = input.reads ?? input.bindings * 2;
  const budgetShare = input.budgetShare ?? 0.5;
  const neededMs = (reads / (input.ramQps * budgetShare)) * 1000;
  return Math.max(input.configuredMs, Math.ceil(neededMs));
}

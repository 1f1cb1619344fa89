/**
 * How long a converged binding waits before its next drift check. A check costs three RAM reads
 * (GetRole, ListPoliciesForRole, ListTagResources); if every binding were checked each configured
 * period, a large cluster would spend the whole RAM rate limit on resyncs and starve new and
 * changed bindings (at 5000 bindings, 10 RAM calls/s and 10 min, checks alone need 25 min of
 * budget). So the period stretches until resyncs use at most `budgetShare` of the limit.
 */
export function resyncPeriodMs(input: {
  configuredMs: number;
  bindings: number;
  ramQps: number;
  readsPerCheck?: number;
  budgetShare?: number;
}): number {
  const readsPerCheck = input.readsPerCheck ?? 3;
  const budgetShare = input.budgetShare ?? 0.5;
  const neededMs = ((input.bindings * readsPerCheck) / (input.ramQps * budgetShare)) * 1000;
  return Math.max(input.configuredMs, Math.ceil(neededMs));
}

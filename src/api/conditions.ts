import type { Condition, ConditionStatus } from './types.ts';

export interface ConditionInput {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
}

/**
 * Merges fresh conditions into the previous list the way apimachinery's SetStatusCondition does:
 * lastTransitionTime moves only when status flips, so a resync that finds nothing new writes an
 * identical status (and the controller can skip the write). Conditions not in `next` are dropped.
 */
export function mergeConditions(
  previous: readonly Condition[] | undefined,
  next: readonly ConditionInput[],
  generation: number | undefined,
  now: Date,
): Condition[] {
  return next.map((input) => {
    const before = previous?.find((c) => c.type === input.type);
    const lastTransitionTime =
      before && before.status === input.status
        ? before.lastTransitionTime
        : now.toISOString().replace(/\.\d{3}Z$/, 'Z');
    const condition: Condition = { ...input, lastTransitionTime };
    if (generation !== undefined) condition.observedGeneration = generation;
    return condition;
  });
}

export function findCondition(
  conditions: readonly Condition[] | undefined,
  type: string,
): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

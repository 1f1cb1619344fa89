import { mergeConditions } from '../../api/conditions.ts';
import { ConditionType, type PodCounts, type PodIdentityBindingStatus } from '../../api/types.ts';
import type { PodView } from '../../kube/pod-view.ts';
import type { InjectionConfig } from '../../webhook/config.ts';
import type { Namespace, ServiceAccount } from '../../webhook/types.ts';
import { classifyPod, isIgnored, type ExpectedIdentity } from './classify.ts';
import { podsCondition, type PodsCondition } from './report.ts';

/** One binding's pods, judged (pure): counts, the stale ones and why, the identity expected. */
export interface PodTally {
  counts: PodCounts;
  stale: { pod: PodView; why: string }[];
  expected: ExpectedIdentity | undefined;
}

/** The pods of a ServiceAccount that run something (the only ones judged). */
export function runningPodsOf(pods: readonly PodView[], serviceAccountName: string): PodView[] {
  return pods.filter((p) => p.spec.serviceAccountName === serviceAccountName && !isIgnored(p));
}

/** Classifies `pods` (already those of the ServiceAccount) against what the webhook injects now. */
export function tallyPods(
  pods: readonly PodView[],
  serviceAccount: ServiceAccount | undefined,
  namespace: Namespace | undefined,
  injection: InjectionConfig,
): PodTally {
  const tally: PodTally = {
    counts: { total: 0, current: 0, stale: 0 },
    stale: [],
    expected: undefined,
  };
  for (const pod of pods) {
    const verdict = classifyPod(pod, serviceAccount, namespace, injection);
    if (verdict.state === 'ignored') continue;
    tally.counts.total++;
    tally.expected ??= verdict.expected;
    if (verdict.state === 'current') tally.counts.current++;
    else {
      tally.counts.stale++;
      tally.stale.push({ pod, why: verdict.why });
    }
  }
  return tally;
}

/** What the reconciler folds into its own status write: PodsCurrent and status.pods. */
export interface PodsVerdict {
  condition: PodsCondition;
  counts: PodCounts;
}

/**
 * The verdict of a tally with no stale pod (NoPods or PodsCurrent), which needs no workload
 * lookup and no restart decision; undefined when some pod is stale: naming its workload (a GET
 * per ReplicaSet) and restarting it are the pod checks' work, so they write that verdict.
 */
export function settledVerdict(
  tally: PodTally,
  serviceAccountName: string,
): PodsVerdict | undefined {
  if (tally.counts.stale > 0) return undefined;
  return {
    condition: podsCondition({
      serviceAccountName,
      counts: tally.counts,
      stale: [],
      restart: 'off',
      restartedForIdentity: new Set(),
    }),
    counts: tally.counts,
  };
}

/**
 * `status` with PodsCurrent and status.pods set to the verdict: both writers (the pod checks and
 * the reconciler) go through here, so they build the very same status from the same verdict and
 * neither write undoes the other. lastTransitionTime moves only when the status flips.
 */
export function withPodsVerdict(
  status: PodIdentityBindingStatus,
  verdict: PodsVerdict,
  generation: number | undefined,
  now: Date,
): PodIdentityBindingStatus {
  const before = status.conditions?.find((c) => c.type === ConditionType.PodsCurrent);
  const [merged] = mergeConditions(
    before ? [before] : [],
    [{ type: ConditionType.PodsCurrent, ...verdict.condition }],
    generation,
    now,
  );
  return {
    ...status,
    conditions: [
      ...(status.conditions ?? []).filter((c) => c.type !== ConditionType.PodsCurrent),
      merged!,
    ],
    pods: verdict.counts,
  };
}

/** An Event is recorded only when PodsCurrent's status or reason flips (by either writer). */
export function podsTransition(
  previous: PodIdentityBindingStatus | undefined,
  condition: PodsCondition,
): boolean {
  const before = previous?.conditions?.find((c) => c.type === ConditionType.PodsCurrent);
  return before?.status !== condition.status || before.reason !== condition.reason;
}

import type { ConditionStatus, PodCounts } from '../../api/types.ts';

/** Condition reasons (and Event reasons) of PodsCurrent. */
export const PodsReason = {
  NoPods: 'NoPods',
  PodsCurrent: 'PodsCurrent',
  StalePods: 'StalePods',
  StalePodsRestarted: 'StalePodsRestarted',
  PodRestartNotAllowed: 'PodRestartNotAllowed',
} as const;

/** The manager flag that allows restarts (named in the condition when it is off). */
export const ALLOW_POD_RESTART_FLAG = '--allow-pod-restart';

/** How many stale pods the message names (the rest are counted). */
export const NAMED_PODS = 3;

/** A pod's workload as the report names it: Deployment/web; undefined for a bare pod. */
export interface Workload {
  kind: string;
  name: string;
}

export interface StalePod {
  name: string;
  why: string;
  workload: Workload | undefined;
}

/** off: spec does not ask. notAllowed: spec asks, the cluster switch is off. on: both. */
export type RestartMode = 'off' | 'notAllowed' | 'on';

export const RESTARTABLE_KINDS: readonly string[] = ['Deployment', 'StatefulSet', 'DaemonSet'];

export function isRestartable(workload: Workload | undefined): workload is Workload {
  return workload !== undefined && RESTARTABLE_KINDS.includes(workload.kind);
}

export function workloadLabel(workload: Workload): string {
  return `${workload.kind}/${workload.name}`;
}

export interface PodsConditionInput {
  serviceAccountName: string;
  counts: PodCounts;
  stale: readonly StalePod[];
  restart: RestartMode;
  /** Workloads (workloadLabel) already restarted for the identity pods should have now. */
  restartedForIdentity: ReadonlySet<string>;
}

export interface PodsCondition {
  status: ConditionStatus;
  reason: string;
  message: string;
}

function byName(a: StalePod, b: StalePod): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** Distinct workloads of the stale pods, sorted, so the message is the same on every pass. */
function workloadsOf(stale: readonly StalePod[]): Workload[] {
  const seen = new Map<string, Workload>();
  for (const pod of stale)
    if (isRestartable(pod.workload)) seen.set(workloadLabel(pod.workload), pod.workload);
  return [...seen.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, w]) => w);
}

function describeStale(input: PodsConditionInput): string {
  const sorted = [...input.stale].sort(byName);
  const named = sorted
    .slice(0, NAMED_PODS)
    .map((p) => `${p.name} (${p.workload ? workloadLabel(p.workload) : 'no owner'}): ${p.why}`);
  const more = sorted.length > NAMED_PODS ? `, and ${sorted.length - NAMED_PODS} more` : '';
  const { stale, total } = input.counts;
  return `${stale} of ${total} pods of ServiceAccount ${input.serviceAccountName} run with a stale identity: ${named.join('; ')}${more}`;
}

function barePodsNote(stale: readonly StalePod[]): string {
  const bare = stale
    .filter((p) => !isRestartable(p.workload))
    .map((p) => p.name)
    .sort();
  if (bare.length === 0) return '';
  const names = bare.slice(0, NAMED_PODS).join(', ') + (bare.length > NAMED_PODS ? ', ...' : '');
  return `; ${names} cannot be rollout-restarted (no Deployment, StatefulSet or DaemonSet): delete and recreate ${bare.length === 1 ? 'it' : 'them'} yourself, the operator never deletes pods`;
}

function restartCommand(workloads: readonly Workload[]): string {
  return workloads
    .map((w) => `kubectl rollout restart ${w.kind.toLowerCase()}/${w.name}`)
    .join(', ');
}

/**
 * PodsCurrent (not part of Ready: the role works, some pods just do not use it yet). Pure and
 * sorted, so a pass over an unchanged world computes the very same message and writes nothing.
 */
export function podsCondition(input: PodsConditionInput): PodsCondition {
  const { counts } = input;
  if (counts.total === 0)
    return {
      status: 'True',
      reason: PodsReason.NoPods,
      message: `no running pods use ServiceAccount ${input.serviceAccountName}`,
    };
  if (counts.stale === 0)
    return {
      status: 'True',
      reason: PodsReason.PodsCurrent,
      message: `all ${counts.total} pods of ServiceAccount ${input.serviceAccountName} match what the webhook injects now`,
    };
  const base = describeStale(input);
  const bare = barePodsNote(input.stale);
  const workloads = workloadsOf(input.stale);
  if (input.restart === 'notAllowed')
    return {
      status: 'False',
      reason: PodsReason.PodRestartNotAllowed,
      message: `${base}; spec.restartStalePods is true, but the operator runs without ${ALLOW_POD_RESTART_FLAG}, so it restarts nothing (ask the cluster admin to enable it, or restart yourself${workloads.length > 0 ? `: ${restartCommand(workloads)}` : ''})${bare}`,
    };
  const pending = workloads.filter((w) => !input.restartedForIdentity.has(workloadLabel(w)));
  if (input.restart === 'on' && workloads.length > 0 && pending.length === 0)
    return {
      status: 'False',
      reason: PodsReason.StalePodsRestarted,
      message: `${base}; restarted ${workloads.map(workloadLabel).join(', ')} for this identity, waiting for the rollout${bare}`,
    };
  const hint =
    input.restart === 'on'
      ? workloads.length > 0
        ? `; restarting ${pending.map(workloadLabel).join(', ')}`
        : ''
      : workloads.length > 0
        ? `; restart them (${restartCommand(workloads)}) or set spec.restartStalePods: true`
        : '';
  return { status: 'False', reason: PodsReason.StalePods, message: `${base}${hint}${bare}` };
}

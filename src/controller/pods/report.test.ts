import { podsCondition, type PodsConditionInput, type StalePod } from './report.ts';

const stale = (name: string, workload?: string, why = 'app: not injected'): StalePod => {
  const [kind, wname] = (workload ?? '').split('/');
  return { name, why, workload: workload ? { kind: kind!, name: wname! } : undefined };
};

function input(fields: Partial<PodsConditionInput>): PodsConditionInput {
  return {
    serviceAccountName: 'app-sa',
    counts: { total: 0, current: 0, stale: 0 },
    stale: [],
    restart: 'off',
    restartedForIdentity: new Set(),
    ...fields,
  };
}

describe('podsCondition', () => {
  it('no pods, all current', () => {
    expect(podsCondition(input({}))).toEqual({
      status: 'True',
      reason: 'NoPods',
      message: 'no running pods use ServiceAccount app-sa',
    });
    expect(podsCondition(input({ counts: { total: 2, current: 2, stale: 0 } }))).toMatchObject({
      status: 'True',
      reason: 'PodsCurrent',
    });
  });

  it('names up to 3 stale pods in name order with their workloads, counts the rest, and says how to fix it', () => {
    const pods = ['e', 'd', 'c', 'b', 'a'].map((n) => stale(`web-${n}`, 'Deployment/web'));
    const condition = podsCondition(
      input({ counts: { total: 6, current: 1, stale: 5 }, stale: pods }),
    );
    expect(condition).toEqual({
      status: 'False',
      reason: 'StalePods',
      message:
        '5 of 6 pods of ServiceAccount app-sa run with a stale identity: web-a (Deployment/web): app: not injected; web-b (Deployment/web): app: not injected; web-c (Deployment/web): app: not injected, and 2 more; restart them (kubectl rollout restart deployment/web) or set spec.restartStalePods: true',
    });
    // Stable: the same pods in another order give the same message.
    expect(
      podsCondition(
        input({ counts: { total: 6, current: 1, stale: 5 }, stale: [...pods].reverse() }),
      ),
    ).toEqual(condition);
  });

  it('spec asks but the cluster switch is off: says so and names the flag', () => {
    const condition = podsCondition(
      input({
        counts: { total: 1, current: 0, stale: 1 },
        stale: [stale('db-0', 'StatefulSet/db')],
        restart: 'notAllowed',
      }),
    );
    expect(condition.reason).toBe('PodRestartNotAllowed');
    expect(condition.message).toContain(
      'spec.restartStalePods is true, but the operator runs without --allow-pod-restart',
    );
    expect(condition.message).toContain('kubectl rollout restart statefulset/db');
  });

  it('restarting, then restarted for this identity', () => {
    const fields = {
      counts: { total: 1, current: 0, stale: 1 },
      stale: [stale('web-a', 'Deployment/web')],
      restart: 'on' as const,
    };
    expect(podsCondition(input(fields)).message).toMatch(/; restarting Deployment\/web$/);
    const restarted = podsCondition(
      input({ ...fields, restartedForIdentity: new Set(['Deployment/web']) }),
    );
    expect(restarted.reason).toBe('StalePodsRestarted');
    expect(restarted.message).toMatch(
      /restarted Deployment\/web for this identity, waiting for the rollout$/,
    );
  });

  it('bare pods and Jobs are reported, never restarted', () => {
    const condition = podsCondition(
      input({
        counts: { total: 2, current: 0, stale: 2 },
        stale: [stale('lonely'), stale('job-x', 'Job/x')],
        restart: 'on',
      }),
    );
    expect(condition.reason).toBe('StalePods');
    expect(condition.message).toContain('lonely (no owner): app: not injected');
    expect(condition.message).toContain(
      'job-x, lonely cannot be rollout-restarted (no Deployment, StatefulSet or DaemonSet): delete and recreate them yourself, the operator never deletes pods',
    );
  });
});

import fastJsonPatch from 'fast-json-patch';
import { FakeBindingStore, RecordingEvents, bindingFixture } from '../../../test/support/fakes.ts';
import type { PodIdentityBinding } from '../../api/types.ts';
import type { OwnerRef, PodView, RawPod } from '../../kube/pod-view.ts';
import { projectPod } from '../../kube/pod-view.ts';
import { FakeClock } from '../../runtime/clock.ts';
import { defaultInjectionConfig } from '../../webhook/config.ts';
import { mutatePod } from '../../webhook/mutate.ts';
import type { Namespace, ServiceAccount } from '../../webhook/types.ts';
import { PodChecks, type PodChecksDeps, type WorkloadPort } from './pod-checks.ts';
import { RESTARTED_AT_ANNOTATION, RESTARTED_FOR_ANNOTATION } from './restart-plan.ts';

const injection = defaultInjectionConfig({
  accountId: '1234567890123456',
  clusterId: 'c1',
  stsEnv: { enabled: true, region: 'cn-hangzhou', vpcEndpoint: true },
});
const NS = 'team-a';

class FakeWorkloads implements WorkloadPort {
  readonly annotationsOf = new Map<string, Record<string, string>>();
  readonly replicaSets = new Map<string, OwnerRef>();
  readonly patches: {
    workload: string;
    annotations: Record<string, string>;
    template: Record<string, string>;
  }[] = [];
  replicaSetReads = 0;

  replicaSetOwner(_namespace: string, name: string): Promise<OwnerRef | undefined> {
    this.replicaSetReads++;
    return Promise.resolve(this.replicaSets.get(name));
  }
  annotations(ref: { kind: string; name: string }): Promise<Record<string, string> | undefined> {
    const found = this.annotationsOf.get(`${ref.kind}/${ref.name}`);
    return Promise.resolve(found && { ...found });
  }
  patch(
    ref: { kind: string; name: string },
    annotations: Record<string, string>,
    template: Record<string, string>,
  ): Promise<void> {
    const key = `${ref.kind}/${ref.name}`;
    this.patches.push({ workload: key, annotations, template });
    this.annotationsOf.set(key, { ...this.annotationsOf.get(key), ...annotations });
    return Promise.resolve();
  }
}

function world(options: { allowPodRestart?: boolean; restartsPerMinute?: number } = {}) {
  const clock = new FakeClock();
  clock.advance(1_700_000_000_000);
  const bindings = new FakeBindingStore();
  const events = new RecordingEvents();
  const workloads = new FakeWorkloads();
  const pods: PodView[] = [];
  const gauge = new Map<string, number>();
  let role = 'app-role';
  const sa = (): ServiceAccount => ({
    metadata: {
      name: 'app-sa',
      namespace: NS,
      annotations: { 'pod-identity.alibabacloud.com/role-name': role },
    },
  });
  const ns: Namespace = {
    metadata: { name: NS, labels: { 'pod-identity.alibabacloud.com/injection': 'on' } },
  };
  const deps: PodChecksDeps = {
    bindings,
    serviceAccount: () => sa(),
    namespace: () => Promise.resolve(ns),
    pods: {
      ofServiceAccount: (namespace, name) =>
        pods.filter(
          (p) => p.metadata.namespace === namespace && p.spec.serviceAccountName === name,
        ),
      hasSynced: () => true,
    },
    workloads,
    events,
    injection,
    allowPodRestart: options.allowPodRestart ?? false,
    now: () => new Date(clock.now()),
    resyncMs: () => 600_000,
    staleGauge: { set: ({ namespace }, value) => void gauge.set(namespace, value) },
    ...(options.restartsPerMinute ? { restartsPerMinute: options.restartsPerMinute } : {}),
  };
  const checks = new PodChecks(deps);
  const addPod = (name: string, owner: OwnerRef | undefined, injected: boolean): void => {
    const raw: RawPod = {
      metadata: {
        name,
        namespace: NS,
        uid: name,
        ...(owner ? { ownerReferences: [{ ...owner, controller: true }] } : {}),
      },
      spec: { serviceAccountName: 'app-sa', containers: [{ name: 'app' }] },
      status: { phase: 'Running' },
    };
    const patch = injected ? mutatePod(raw, sa(), ns, injection).patch : [];
    pods.push(projectPod(fastJsonPatch.applyPatch(raw, patch, true, false).newDocument));
  };
  const put = (restartStalePods?: boolean): PodIdentityBinding => {
    const binding = bindingFixture({ namespace: NS, name: 'app', serviceAccountName: 'app-sa' });
    if (restartStalePods !== undefined) binding.spec.restartStalePods = restartStalePods;
    // As the first reconcile leaves it (the reconciler always writes Ready).
    binding.status = {
      observedGeneration: 1,
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          reason: 'Bound',
          message: 'bound',
          lastTransitionTime: '2026-06-01T00:00:00Z',
          observedGeneration: 1,
        },
      ],
    };
    return bindings.put(binding);
  };
  const status = () => bindings.objects.get(`${NS}/app`)!.status!;
  const podsCurrent = () => status().conditions!.find((c) => c.type === 'PodsCurrent')!;
  return {
    clock,
    bindings,
    events,
    workloads,
    pods,
    gauge,
    checks,
    addPod,
    put,
    status,
    podsCurrent,
    setRole: (r: string) => void (role = r),
    /** A restarted operator: the same world, nothing remembered in memory. */
    fresh: () => new PodChecks(deps),
    removePods: (prefix: string) => {
      for (let i = pods.length - 1; i >= 0; i--)
        if (pods[i]!.metadata.name.startsWith(prefix)) pods.splice(i, 1);
    },
  };
}

const rs = (name: string): OwnerRef => ({ kind: 'ReplicaSet', name, uid: `uid-${name}` });

describe('PodChecks', () => {
  it('reports stale pods with their Deployment, one Event per transition, and writes nothing on an unchanged pass', async () => {
    const w = world();
    w.put();
    w.workloads.replicaSets.set('web-5d4', { kind: 'Deployment', name: 'web', uid: 'd1' });
    w.addPod('web-5d4-a', rs('web-5d4'), false);
    w.addPod('web-5d4-b', rs('web-5d4'), true);
    await w.checks.check(NS, 'app');
    expect(w.status().pods).toEqual({ total: 2, current: 1, stale: 1 });
    expect(w.podsCurrent()).toMatchObject({
      status: 'False',
      reason: 'StalePods',
      message: expect.stringContaining('web-5d4-a (Deployment/web): app: not injected'),
    });
    expect(w.events.reasons()).toEqual(['StalePods']);
    expect(w.gauge.get(NS)).toBe(1);

    const writes = w.bindings.statusWrites.length;
    w.clock.advance(60_000);
    await w.checks.check(NS, 'app');
    expect(w.bindings.statusWrites).toHaveLength(writes);
    expect(w.events.reasons()).toEqual(['StalePods']);
    expect(w.workloads.patches).toEqual([]);
    // One GET per ReplicaSet for the life of the process.
    expect(w.workloads.replicaSetReads).toBe(1);

    w.removePods('web-5d4-a');
    await w.checks.check(NS, 'app');
    expect(w.podsCurrent()).toMatchObject({ status: 'True', reason: 'PodsCurrent' });
    expect(w.status().pods).toEqual({ total: 1, current: 1, stale: 0 });
    expect(w.events.reasons()).toEqual(['StalePods', 'PodsCurrent']);
    expect(w.gauge.get(NS)).toBe(0);
  });

  it('spec asks but --allow-pod-restart is off: names the flag and restarts nothing', async () => {
    const w = world({ allowPodRestart: false });
    w.put(true);
    w.workloads.annotationsOf.set('StatefulSet/db', {});
    w.addPod('db-0', { kind: 'StatefulSet', name: 'db', uid: 's1' }, false);
    await w.checks.check(NS, 'app');
    expect(w.podsCurrent().reason).toBe('PodRestartNotAllowed');
    expect(w.podsCurrent().message).toContain('--allow-pod-restart');
    expect(w.workloads.patches).toEqual([]);
  });

  it('restarts a stale Deployment once per identity (annotation bump), even across a new PodChecks, and again for a new role', async () => {
    const w = world({ allowPodRestart: true });
    w.put(true);
    w.workloads.replicaSets.set('web-5d4', { kind: 'Deployment', name: 'web', uid: 'd1' });
    w.workloads.annotationsOf.set('Deployment/web', {});
    w.addPod('web-5d4-a', rs('web-5d4'), false);
    await w.checks.check(NS, 'app');
    expect(w.workloads.patches).toEqual([
      {
        workload: 'Deployment/web',
        annotations: { [RESTARTED_FOR_ANNOTATION]: expect.stringMatching(/^[0-9a-f]{16}$/) },
        template: { [RESTARTED_AT_ANNOTATION]: new Date(w.clock.now()).toISOString() },
      },
    ]);
    expect(w.events.reasons()).toEqual(['WorkloadRestarted', 'StalePodsRestarted']);
    expect(w.podsCurrent()).toMatchObject({ reason: 'StalePodsRestarted' });

    // The old pod is still there (the rollout is slow): no second restart, no new Event.
    w.clock.advance(600_000);
    await w.checks.check(NS, 'app');
    expect(w.workloads.patches).toHaveLength(1);
    await w.fresh().check(NS, 'app');
    expect(w.workloads.patches).toHaveLength(1);
    expect(w.events.reasons()).toEqual(['WorkloadRestarted', 'StalePodsRestarted']);

    // The role changes: the pods are stale for a new identity, so one more restart.
    w.setRole('new-role');
    await w.checks.check(NS, 'app');
    expect(w.workloads.patches).toHaveLength(2);
    expect(w.workloads.patches[1]!.annotations[RESTARTED_FOR_ANNOTATION]).not.toBe(
      w.workloads.patches[0]!.annotations[RESTARTED_FOR_ANNOTATION],
    );
  });

  it('never touches bare pods: reports them', async () => {
    const w = world({ allowPodRestart: true });
    w.put(true);
    w.addPod('lonely', undefined, false);
    await w.checks.check(NS, 'app');
    expect(w.workloads.patches).toEqual([]);
    expect(w.podsCurrent().message).toContain('lonely cannot be rollout-restarted');
  });

  it('rate-limits restarts cluster-wide and retries when the next token is due', async () => {
    const w = world({ allowPodRestart: true, restartsPerMinute: 2 });
    w.put(true);
    for (const name of ['a', 'b', 'c']) {
      w.workloads.annotationsOf.set(`DaemonSet/${name}`, {});
      w.addPod(`${name}-x`, { kind: 'DaemonSet', name, uid: name }, false);
    }
    const first = await w.checks.check(NS, 'app');
    expect(w.workloads.patches.map((p) => p.workload)).toEqual(['DaemonSet/a', 'DaemonSet/b']);
    expect(first.requeueAfterMs).toBe(30_000);
    expect(w.podsCurrent().message).toMatch(/restarting DaemonSet\/c/);
    w.clock.advance(30_000);
    await w.checks.check(NS, 'app');
    expect(w.workloads.patches.map((p) => p.workload)).toEqual([
      'DaemonSet/a',
      'DaemonSet/b',
      'DaemonSet/c',
    ]);
    expect(w.podsCurrent().reason).toBe('StalePodsRestarted');
  });

  it('waits for the first reconcile (no status yet) and writes nothing before it', async () => {
    const w = world();
    const binding = w.put();
    w.bindings.put({ ...binding, status: undefined });
    w.addPod('lonely', undefined, false);
    expect(await w.checks.check(NS, 'app')).toEqual({ requeueAfterMs: 1000 });
    expect(w.bindings.statusWrites).toEqual([]);
  });

  it("waits too while status is only the CRD's default (observedGeneration 0, no conditions)", async () => {
    const w = world();
    const binding = w.put();
    w.bindings.put({ ...binding, status: { observedGeneration: 0 } });
    w.addPod('lonely', undefined, false);
    expect(await w.checks.check(NS, 'app')).toEqual({ requeueAfterMs: 1000 });
    expect(w.bindings.statusWrites).toEqual([]);
  });

  it('a deleted binding drops out of the gauge', async () => {
    const w = world();
    w.put();
    w.addPod('lonely', undefined, false);
    await w.checks.check(NS, 'app');
    expect(w.gauge.get(NS)).toBe(1);
    w.bindings.objects.clear();
    await w.checks.check(NS, 'app');
    expect(w.gauge.get(NS)).toBe(0);
  });
});

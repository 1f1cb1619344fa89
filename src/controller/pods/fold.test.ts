import { bindingFixture, reconcilerWorld } from '../../../test/support/fakes.ts';
import type { PodView } from '../../kube/pod-view.ts';
import { defaultInjectionConfig } from '../../webhook/config.ts';
import { PodChecks } from './pod-checks.ts';
import { podVerdictSource } from './verdict-source.ts';

const injection = defaultInjectionConfig({ accountId: '1234567890123456', clusterId: 'c1' });

/** The reconciler and the pod checks over one binding store, as the manager wires them. */
function world(synced: boolean) {
  let namespaceReads = 0;
  const pods: PodView[] = [];
  const podCache = { ofServiceAccount: () => pods, hasSynced: () => synced };
  const namespace = () => {
    namespaceReads++;
    return Promise.resolve({ metadata: { name: 'team-a', labels: {} } });
  };
  const serviceAccount = (ns: string, name: string) => {
    const annotations = w.serviceAccounts.annotations(ns, name);
    return annotations ? { metadata: { name, namespace: ns, annotations } } : undefined;
  };
  const w = reconcilerWorld({
    podVerdict: podVerdictSource({ pods: podCache, namespace, injection, serviceAccount }),
  });
  const checks = new PodChecks({
    bindings: w.bindings,
    serviceAccount,
    namespace,
    pods: podCache,
    workloads: {
      replicaSetOwner: () => Promise.resolve(undefined),
      annotations: () => Promise.resolve(undefined),
      patch: () => Promise.resolve(),
    },
    events: w.events,
    injection,
    allowPodRestart: false,
    now: () => new Date('2026-06-01T00:00:00Z'),
    resyncMs: () => 600_000,
  });
  w.bindings.put(bindingFixture({ serviceAccountName: 'app-sa' }));
  w.serviceAccounts.accounts.set('team-a/app-sa', { annotations: {} });
  return { ...w, checks, namespaceReads: () => namespaceReads };
}

describe('the first pod verdict folded into the reconciler status write', () => {
  it('writes Ready and PodsCurrent=NoPods in one write, and neither writer writes again', async () => {
    const { bindings, events, reconciler, checks, namespaceReads } = world(true);
    // Worst case for a loop: every write is an event queueing both writers again.
    let queued = 1;
    for (let round = 0; queued > 0 && round < 10; round++) {
      const before = bindings.statusWrites.length;
      await reconciler.reconcile('team-a', 'app');
      await checks.check('team-a', 'app');
      queued = bindings.statusWrites.length - before;
    }
    expect(bindings.statusWrites).toHaveLength(1);
    const status = bindings.statusWrites[0]!;
    expect(status.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(status.conditions?.find((c) => c.type === 'PodsCurrent')?.reason).toBe('NoPods');
    expect(status.pods).toEqual({ total: 0, current: 0, stale: 0 });
    // One Event per transition: Bound and NoPods once each, whoever wrote them.
    expect(events.events.filter((e) => e.reason === 'NoPods')).toHaveLength(1);
    expect(events.events.filter((e) => e.reason === 'Bound')).toHaveLength(1);
    // No pods: neither writer read the namespace.
    expect(namespaceReads()).toBe(0);
  });

  it('folds it into a Stalled pass too (the bench: a denied policy), as the pod checks report it', async () => {
    const { bindings, reconciler, checks } = world(true);
    const stored = bindings.objects.get('team-a/app')!;
    stored.spec.role = { policies: [{ type: 'System', name: 'AdministratorAccess' }] };
    await reconciler.reconcile('team-a', 'app');
    await checks.check('team-a', 'app');
    await reconciler.reconcile('team-a', 'app');
    expect(bindings.statusWrites).toHaveLength(1);
    const status = bindings.statusWrites[0]!;
    expect(status.conditions?.find((c) => c.type === 'Stalled')?.status).toBe('True');
    expect(status.conditions?.find((c) => c.type === 'PodsCurrent')?.reason).toBe('NoPods');
  });

  it('leaves PodsCurrent to the pod checks while the pod cache is not synced', async () => {
    const { bindings, reconciler } = world(false);
    await reconciler.reconcile('team-a', 'app');
    const status = bindings.statusWrites.at(-1)!;
    expect(status.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(status.conditions?.some((c) => c.type === 'PodsCurrent')).toBe(false);
    expect(status.pods).toBeUndefined();
  });
});

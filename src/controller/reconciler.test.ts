import { ANNOTATION_ROLE_NAME } from '../api/types.ts';
import { DEFAULT_GUARDRAILS } from '../identity/guardrails.ts';
import {
  bindingFixture,
  cloudError,
  deferred,
  reconcilerWorld,
  testCluster as cluster,
} from '../../test/support/fakes.ts';
import { ledgerTagKey } from './adoption-ledger.ts';
import { chooseRoleName } from './desired.ts';
import { ownershipTags } from './ownership.ts';
import { RetryableError } from './reconciler.ts';
import { ANNOTATION_MANAGED_BY_BINDING } from './service-account.ts';

const oss = { type: 'System' as const, name: 'AliyunOSSReadOnlyAccess' };
const logs = { type: 'System' as const, name: 'AliyunLogReadOnlyAccess' };
const cs = { type: 'System' as const, name: 'AliyunCSReadOnlyAccess' };

const world = () => reconcilerWorld({ guardrails: { ...DEFAULT_GUARDRAILS, allowAdoption: true } });

async function failure(promise: Promise<unknown>): Promise<RetryableError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof RetryableError) return error;
    throw error;
  }
  throw new Error('expected the reconcile to fail');
}

describe('BindingReconciler under interleaving', () => {
  it("keeps each reconcile's retry-after to itself", async () => {
    const { ram, bindings, serviceAccounts, reconciler } = world();
    const a = bindings.put(bindingFixture({ name: 'a', serviceAccountName: 'sa-a' }));
    bindings.put(bindingFixture({ name: 'b', serviceAccountName: 'sa-b' }));
    serviceAccounts.accounts.set('team-a/sa-a', { annotations: {} });
    const roleA = chooseRoleName(a, cluster);
    const holdStatusOfA = deferred();
    ram.before = (method, args) => {
      if (method !== 'getRole') return;
      if (args[0] === roleA) throw cloudError('Throttled', 'Throttling.User', 30_000);
      throw cloudError('Transient', 'ServiceUnavailableTemporary');
    };
    bindings.before = async (method, args) => {
      const target = args[0] as { metadata: { name: string } };
      if (method === 'patchStatus' && target.metadata.name === 'a') await holdStatusOfA.promise;
    };
    const first = failure(reconciler.reconcile('team-a', 'a'));
    await new Promise((r) => setImmediate(r));
    const second = await failure(reconciler.reconcile('team-a', 'b'));
    holdStatusOfA.resolve();
    expect((await first).retryAfterMs).toBe(30_000);
    expect(second.retryAfterMs).toBeUndefined();
  });
});

describe('finalizer', () => {
  it("deleting the loser of a ServiceAccount conflict leaves the winner's wiring", async () => {
    const { bindings, serviceAccounts, ram, reconciler } = world();
    const old = bindings.put(
      bindingFixture({
        name: 'old',
        serviceAccountName: 'shared',
        createdAt: '2026-01-01T00:00:00Z',
      }),
    );
    bindings.put(
      bindingFixture({
        name: 'new',
        serviceAccountName: 'shared',
        createdAt: '2026-02-01T00:00:00Z',
      }),
    );
    serviceAccounts.accounts.set('team-a/shared', { annotations: {} });
    await reconciler.reconcile('team-a', 'old');
    await reconciler.reconcile('team-a', 'new');
    expect(bindings.objects.get('team-a/new')?.status?.conditions?.[0]?.reason).toBe(
      'ServiceAccountConflict',
    );
    const wired = { ...serviceAccounts.annotations('team-a', 'shared') };
    expect(wired[ANNOTATION_MANAGED_BY_BINDING]).toBe('old');

    bindings.markDeleted('team-a', 'new');
    await reconciler.reconcile('team-a', 'new');
    expect(bindings.objects.has('team-a/new')).toBe(false);
    expect(serviceAccounts.annotations('team-a', 'shared')).toEqual(wired);
    expect(ram.roles.has(chooseRoleName(old, cluster))).toBe(true);
  });

  it('derives what it owns from RAM: a forged status neither strips a victim role nor orphans the real one', async () => {
    const { bindings, serviceAccounts, ram, reconciler } = world();
    const binding = bindings.put(bindingFixture({ role: { policies: [oss] } }));
    serviceAccounts.accounts.set('team-a/app-sa', { annotations: {} });
    await reconciler.reconcile('team-a', 'app');
    const real = chooseRoleName(binding, cluster);
    expect(ram.roles.get(real)?.attached).toEqual([oss]);
    ram.seedRole('victim', { attached: [cs] });

    const stored = bindings.objects.get('team-a/app')!;
    bindings.put({
      ...stored,
      status: {
        ...stored.status,
        roleName: 'victim',
        roleOwnership: 'Adopted',
        attachedPolicies: [cs],
      },
    });
    bindings.markDeleted('team-a', 'app');
    await reconciler.reconcile('team-a', 'app');
    expect(ram.roles.get('victim')?.attached).toEqual([cs]);
    expect(ram.roles.has(real)).toBe(false);
    expect(bindings.objects.has('team-a/app')).toBe(false);
  });
});

describe('adopted roles after a partial failure', () => {
  it('never orphans a grant: what was attached before the error is detached later', async () => {
    const { bindings, serviceAccounts, ram, reconciler } = world();
    ram.seedRole('legacy', { attached: [cs] });
    serviceAccounts.accounts.set('team-a/app-sa', { annotations: {} });
    bindings.put(bindingFixture({ role: { name: 'legacy', adopt: true, policies: [oss, logs] } }));
    ram.before = (method, args) => {
      if (method === 'attachPolicy' && (args[1] as { name: string }).name === logs.name)
        throw cloudError('Transient', 'InternalError');
    };
    await failure(reconciler.reconcile('team-a', 'app'));
    expect(ram.roles.get('legacy')?.attached).toEqual([cs, oss]);
    ram.before = undefined;

    // The policies leave the spec before any pass succeeds: what this binding attached must go.
    const stored = bindings.objects.get('team-a/app')!;
    bindings.put({ ...stored, spec: { ...stored.spec, role: { name: 'legacy', adopt: true } } });
    await reconciler.reconcile('team-a', 'app');
    expect(ram.roles.get('legacy')?.attached).toEqual([cs]);

    // And re-added, then deleted: the pre-existing policy stays, the ledger tag goes.
    const again = bindings.objects.get('team-a/app')!;
    bindings.put({
      ...again,
      spec: { ...again.spec, role: { name: 'legacy', adopt: true, policies: [oss, cs] } },
    });
    await reconciler.reconcile('team-a', 'app');
    expect(ram.roles.get('legacy')?.attached).toEqual([cs, oss]);
    bindings.markDeleted('team-a', 'app');
    await reconciler.reconcile('team-a', 'app');
    const legacy = ram.roles.get('legacy')!;
    expect(legacy.attached).toEqual([cs]);
    expect(Object.keys(legacy.tags)).toEqual([]);
    expect(JSON.parse(legacy.role.trustPolicy).Statement).toEqual([]);
  });

  it('records the adoption before its first write, so deletion finds it even after a crash', async () => {
    const { bindings, serviceAccounts, ram, reconciler } = world();
    ram.seedRole('legacy');
    serviceAccounts.accounts.set('team-a/app-sa', { annotations: {} });
    bindings.put(bindingFixture({ role: { name: 'legacy', adopt: true } }));
    ram.before = (method) => {
      if (method === 'updateRole') throw cloudError('Transient', 'InternalError');
    };
    await failure(reconciler.reconcile('team-a', 'app'));
    const id = { clusterId: 'c1', namespace: 'team-a', name: 'app' };
    expect(ram.roles.get('legacy')?.tags).toEqual({ [ledgerTagKey(id)]: '-' });
    expect(ram.writes()).toEqual(['tagRole', 'updateRole']);
  });

  it('tags the roles it creates so ownership survives a lost status', async () => {
    const { bindings, serviceAccounts, ram, reconciler } = world();
    const binding = bindings.put(bindingFixture());
    serviceAccounts.accounts.set('team-a/app-sa', { annotations: {} });
    await reconciler.reconcile('team-a', 'app');
    expect(ram.roles.get(chooseRoleName(binding, cluster))?.tags).toEqual(
      ownershipTags({
        clusterId: 'c1',
        namespace: 'team-a',
        name: 'app',
        accountId: cluster.accountId,
      }),
    );
    expect(serviceAccounts.annotations('team-a', 'app-sa')?.[ANNOTATION_ROLE_NAME]).toBe(
      chooseRoleName(binding, cluster),
    );
  });
});

describe('ServiceAccount wiring', () => {
  it('stops creating a ServiceAccount in a terminating namespace (no retry loop)', async () => {
    const { bindings, serviceAccounts, reconciler } = world();
    bindings.put(bindingFixture({ createServiceAccount: true }));
    serviceAccounts.terminating.add('team-a');
    await expect(reconciler.reconcile('team-a', 'app')).resolves.toEqual({
      requeueAfterMs: 600_000,
    });
    const ready = bindings.objects
      .get('team-a/app')
      ?.status?.conditions?.find((c) => c.type === 'Ready');
    expect(ready).toMatchObject({ status: 'False', reason: 'NamespaceTerminating' });
  });
});

describe('retry backoff signal', () => {
  it('marks a failed pass that made RAM writes as progressed, and one that made none as not', async () => {
    const { bindings, serviceAccounts, ram, reconciler } = world();
    bindings.put(bindingFixture({ role: { policies: [oss, logs] } }));
    serviceAccounts.accounts.set('team-a/app-sa', { annotations: {} });
    ram.before = (method, args) => {
      if (method === 'attachPolicy' && (args[1] as { name: string }).name === logs.name)
        throw cloudError('Throttled', 'Throttling.User', 200);
    };
    const first = await failure(reconciler.reconcile('team-a', 'app'));
    expect(first.progressed).toBe(true); // created the role and attached one policy
    const second = await failure(reconciler.reconcile('team-a', 'app'));
    expect(second.progressed).toBe(false); // failed in place: the backoff should grow
    expect(second.retryAfterMs).toBe(200);
  });
});

describe('reconcile deadline', () => {
  it('stops before the next RAM write once the deadline has passed', async () => {
    const { bindings, serviceAccounts, ram, reconciler } = world();
    bindings.put(bindingFixture({ role: { policies: [oss, logs] } }));
    serviceAccounts.accounts.set('team-a/app-sa', { annotations: {} });
    const deadline = new AbortController();
    ram.before = (method) => {
      if (method === 'createRole') deadline.abort(new Error('reconcile deadline exceeded'));
    };
    await expect(reconciler.reconcile('team-a', 'app', deadline.signal)).rejects.toThrow(
      'reconcile deadline exceeded',
    );
    expect(ram.writes()).toEqual(['createRole']); // no attach after the deadline
    expect(bindings.statusWrites).toEqual([]);
  });
});

describe('roles retained by a deleted binding', () => {
  it('names the way to take one over, and takes it over only on the explicit opt-in', async () => {
    const { bindings, serviceAccounts, ram, reconciler } = world();
    const gone = { clusterId: 'c1', namespace: 'team-a', name: 'old-app' };
    ram.seedRole('reports', { tags: ownershipTags(gone), attached: [cs] });
    serviceAccounts.accounts.set('team-a/app-sa', { annotations: {} });
    const fresh = bindings.put(bindingFixture({ role: { name: 'reports', policies: [oss] } }));
    await reconciler.reconcile('team-a', 'app');
    const ready = () =>
      bindings.objects.get('team-a/app')?.status?.conditions?.find((c) => c.type === 'Ready');
    expect(ready()).toMatchObject({ reason: 'RoleRetainedByDeletedBinding' });
    expect(ready()?.message).toContain('rrsa.dev/take-over-retained-role=true');
    expect(ram.writes()).toEqual([]);

    const stored = bindings.objects.get('team-a/app')!;
    bindings.put({
      ...stored,
      metadata: {
        ...stored.metadata,
        annotations: { 'rrsa.dev/take-over-retained-role': 'true' },
      },
    });
    await reconciler.reconcile('team-a', 'app');
    expect(ready()).toMatchObject({ status: 'True', reason: 'Bound' });
    const role = ram.roles.get('reports')!;
    expect(role.tags).toEqual(
      ownershipTags({ ...gone, name: fresh.metadata.name, accountId: cluster.accountId }),
    );
    expect(role.attached).toEqual([oss]); // owned now: the spec is the whole truth
  });

  it('never offers a take-over while the owning binding exists', async () => {
    const { bindings, serviceAccounts, ram, reconciler } = world();
    bindings.put(bindingFixture({ name: 'owner', serviceAccountName: 'other-sa' }));
    ram.seedRole('reports', {
      tags: ownershipTags({ clusterId: 'c1', namespace: 'team-a', name: 'owner' }),
    });
    serviceAccounts.accounts.set('team-a/app-sa', { annotations: {} });
    const b = bindingFixture({ role: { name: 'reports' } });
    b.metadata.annotations = { 'rrsa.dev/take-over-retained-role': 'true' };
    bindings.put(b);
    await reconciler.reconcile('team-a', 'app');
    expect(
      bindings.objects.get('team-a/app')?.status?.conditions?.find((c) => c.type === 'Ready'),
    ).toMatchObject({ reason: 'RoleOwnedByAnotherBinding' });
    expect(ram.writes()).toEqual([]);
  });
});

import { ANNOTATION_ROLE_NAME } from '../api/types.ts';
import { bindingFixture, cloudError, reconcilerWorld } from '../../test/support/fakes.ts';
import { freshVerification, roleFingerprint } from './verified-role.ts';

const oss = { type: 'System' as const, name: 'AliyunOSSReadOnlyAccess' };
const FRESH_MS = 9_000;

function world() {
  const clock = { ms: Date.parse('2026-06-01T00:00:00Z') };
  const { ram, bindings, serviceAccounts, reconciler } = reconcilerWorld({
    now: () => new Date(clock.ms),
    resyncMs: () => 10_000,
    ramFreshMs: () => FRESH_MS,
  });
  const binding = bindings.put(
    bindingFixture({ role: { policies: [oss] }, createServiceAccount: true }),
  );
  const ramCalls = () => ram.calls.length;
  return { ram, bindings, serviceAccounts, clock, reconciler, binding, ramCalls };
}

describe('freshVerification', () => {
  const binding = bindingFixture();
  const record = {
    fingerprint: roleFingerprint(binding),
    checkedAtMs: 1_000,
    ownership: 'Created' as const,
    attachedPolicies: [],
    inlinePolicies: [],
  };
  it('vouches for the same generation of the same object within the window only', () => {
    expect(freshVerification(record, binding, 1_000, 500)).toBe(record);
    expect(freshVerification(record, binding, 1_499, 500)).toBe(record);
    expect(freshVerification(record, binding, 1_500, 500)).toBeUndefined();
    expect(freshVerification(record, binding, 999, 500)).toBeUndefined(); // clock stepped back
    expect(freshVerification(record, binding, 1_000, 0)).toBeUndefined();
    const changed = { ...binding, metadata: { ...binding.metadata, generation: 2 } };
    expect(freshVerification(record, changed, 1_000, 500)).toBeUndefined();
    const recreated = { ...binding, metadata: { ...binding.metadata, uid: 'other' } };
    expect(freshVerification(record, recreated, 1_000, 500)).toBeUndefined();
    expect(freshVerification(undefined, binding, 1_000, 500)).toBeUndefined();
  });
});

describe('passes after RAM converged', () => {
  it('re-wire a ServiceAccount without reading RAM while the convergence is fresh', async () => {
    const { serviceAccounts, clock, reconciler, binding, ramCalls } = world();
    await reconciler.reconcile('team-a', 'app');
    const afterConverge = ramCalls();
    expect(afterConverge).toBeGreaterThan(0);
    // Someone strips the annotation: the ServiceAccount event queues a pass.
    const key = `team-a/${binding.spec.serviceAccountName}`;
    serviceAccounts.accounts.set(key, { annotations: {} });
    clock.ms += FRESH_MS - 1;
    await reconciler.reconcile('team-a', 'app');
    expect(ramCalls()).toBe(afterConverge);
    expect(serviceAccounts.accounts.get(key)?.annotations[ANNOTATION_ROLE_NAME]).toBeDefined();
  });

  it('read RAM again once the window has passed (the resync pass), and repair drift', async () => {
    const { ram, clock, reconciler, ramCalls } = world();
    await reconciler.reconcile('team-a', 'app');
    const [roleName] = [...ram.roles.keys()];
    ram.roles.get(roleName!)!.attached = [];
    // Drift checks read one of the two lists per pass (drift-check.ts): within two periods.
    for (let check = 0; check < 2; check++) {
      clock.ms += FRESH_MS;
      const before = ramCalls();
      await reconciler.reconcile('team-a', 'app');
      expect(ramCalls()).toBeGreaterThan(before);
    }
    expect(ram.roles.get(roleName!)!.attached).toEqual([oss]);
  });

  it('read RAM again after a spec change', async () => {
    const { bindings, reconciler, binding, ramCalls } = world();
    await reconciler.reconcile('team-a', 'app');
    const before = ramCalls();
    const current = (await bindings.get('team-a', 'app'))!;
    bindings.put({
      ...current,
      metadata: { ...current.metadata, generation: (binding.metadata.generation ?? 1) + 1 },
      spec: { ...current.spec, role: { policies: [] } },
    });
    await reconciler.reconcile('team-a', 'app');
    expect(ramCalls()).toBeGreaterThan(before);
  });

  it('read RAM again after a pass failed at RAM', async () => {
    const { ram, clock, reconciler, ramCalls } = world();
    await reconciler.reconcile('team-a', 'app');
    clock.ms += FRESH_MS; // the resync pass fails
    ram.before = () => {
      throw cloudError('Transient', 'ServiceUnavailableTemporary');
    };
    await expect(reconciler.reconcile('team-a', 'app')).rejects.toThrow();
    ram.before = undefined;
    clock.ms -= FRESH_MS; // even "back in the window", the failed check left no record
    const before = ramCalls();
    await reconciler.reconcile('team-a', 'app');
    expect(ramCalls()).toBeGreaterThan(before);
  });

  it('write no status when nothing changed', async () => {
    const { bindings, reconciler } = world();
    await reconciler.reconcile('team-a', 'app');
    await reconciler.reconcile('team-a', 'app');
    const status = (await bindings.get('team-a', 'app'))!.status;
    let writes = 0;
    bindings.before = (method) => {
      if (method === 'patchStatus') writes++;
    };
    await reconciler.reconcile('team-a', 'app');
    expect(writes).toBe(0);
    expect((await bindings.get('team-a', 'app'))!.status).toEqual(status);
  });
});

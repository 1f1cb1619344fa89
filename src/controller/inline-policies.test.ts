import type { InlinePolicySpec } from '../api/types.ts';
import { DEFAULT_GUARDRAILS } from '../identity/guardrails.ts';
import { inlinePolicyName } from '../identity/inline-policy.ts';
import {
  bindingFixture,
  reconcilerWorld,
  testCluster as cluster,
} from '../../test/support/fakes.ts';
import { readLedger } from './adoption-ledger.ts';
import { chooseRoleName } from './desired.ts';
import { ownershipTags } from './ownership.ts';

const id = { clusterId: 'c1', namespace: 'team-a', name: 'app' };
const policyName = inlinePolicyName('rrsa-', 'c1', 'team-a', 'app', 'reports');

const doc = (action: string | string[], resource = 'acs:oss:*:*:reports/*') => ({
  Version: '1',
  Statement: [{ Effect: 'Allow', Action: action, Resource: resource }],
});
const entry = (action: string | string[] = 'oss:GetObject'): InlinePolicySpec => ({
  name: 'reports',
  document: doc(action),
});

function world(
  inlinePolicies: InlinePolicySpec[],
  deletionPolicy?: 'Delete' | 'Retain',
  adopt?: string,
) {
  const { ram, bindings, serviceAccounts, events, reconciler } = reconcilerWorld({
    guardrails: { ...DEFAULT_GUARDRAILS, allowAdoption: true },
  });
  serviceAccounts.accounts.set('team-a/app-sa', { annotations: {} });
  const binding = bindings.put(
    bindingFixture({
      role: { inlinePolicies, ...(adopt ? { name: adopt, adopt: true } : {}) },
      ...(deletionPolicy ? { deletionPolicy } : {}),
    }),
  );
  const roleName = chooseRoleName(binding, cluster);
  const reconcile = () => reconciler.reconcile('team-a', 'app');
  const setSpec = (inline: InlinePolicySpec[]): void => {
    const current = bindings.objects.get('team-a/app')!;
    bindings.put({ ...current, spec: { ...current.spec, role: { inlinePolicies: inline } } });
  };
  const status = () => bindings.objects.get('team-a/app')?.status;
  const ready = () => status()?.conditions?.find((c) => c.type === 'Ready');
  return { ram, bindings, events, roleName, reconcile, setSpec, status, ready };
}

describe('inline policies against FakeRam', () => {
  it('creates a tagged Custom policy, attaches it and reports it; an unchanged resync writes nothing', async () => {
    const w = world([entry()]);
    await w.reconcile();
    expect(w.ram.writes()).toEqual(['createPolicy', 'createRole', 'attachPolicy']);
    const policy = w.ram.policies.get(policyName)!;
    expect(policy.tags).toEqual(ownershipTags(id));
    expect(JSON.parse(policy.versions[0]!.document)).toEqual(doc('oss:GetObject'));
    expect(w.ram.roles.get(w.roleName)!.attached).toContainEqual({
      type: 'Custom',
      name: policyName,
    });
    expect(w.status()?.inlinePolicies).toEqual([
      { name: 'reports', policyName, defaultVersion: 'v1' },
    ]);
    expect(w.ready()?.status).toBe('True');

    w.ram.calls.length = 0;
    const statusWrites = w.bindings.statusWrites.length;
    // The same document written differently (list vs string, key order) is the same document.
    w.setSpec([
      {
        name: 'reports',
        document: {
          Statement: [
            { Resource: ['acs:oss:*:*:reports/*'], Action: ['oss:GetObject'], Effect: 'Allow' },
          ],
          Version: '1',
        },
      },
    ]);
    await w.reconcile();
    expect(w.ram.writes()).toEqual([]);
    expect(w.bindings.statusWrites.length).toBe(statusWrites);
  });

  it("a changed document becomes a new default version; old versions are pruned before RAM's limit of 5", async () => {
    const w = world([entry('oss:Get1')]);
    await w.reconcile();
    for (let n = 2; n <= 7; n++) {
      w.setSpec([entry(`oss:Get${n}`)]);
      await w.reconcile();
      const versions = w.ram.policies.get(policyName)!.versions;
      expect(versions.length).toBeLessThanOrEqual(5);
      expect(JSON.parse(versions.find((v) => v.isDefault)!.document)).toEqual(doc(`oss:Get${n}`));
    }
    expect(w.ram.policies.get(policyName)!.versions.map((v) => v.versionId)).toEqual([
      'v3',
      'v4',
      'v5',
      'v6',
      'v7',
    ]);
    expect(w.status()?.inlinePolicies?.[0]?.defaultVersion).toBe('v7');
    const writes = w.ram.writes();
    // Pruning comes before the create that would otherwise hit LimitExceeded.Policy.Version.
    expect(writes.slice(-2)).toEqual(['deletePolicyVersion', 'createPolicyVersion']);
  });

  it('repairs drift: a default version edited in RAM is set back', async () => {
    const w = world([entry()]);
    await w.reconcile();
    await w.ram.createPolicyVersion(policyName, JSON.stringify(doc('*', '*')));
    w.ram.calls.length = 0;
    await w.reconcile();
    expect(w.ram.writes()).toEqual(['setDefaultPolicyVersion']);
    const current = w.ram.policies.get(policyName)!.versions.find((v) => v.isDefault)!;
    expect(JSON.parse(current.document)).toEqual(doc('oss:GetObject'));
  });

  it('refuses a privileged inline document before any RAM call, naming the statement and action', async () => {
    const w = world([
      {
        name: 'reports',
        document: {
          Version: '1',
          Statement: [
            doc('oss:GetObject').Statement[0]!,
            { Effect: 'Allow', Action: 'ram:CreateUser', Resource: '*' },
          ],
        },
      },
    ]);
    await w.reconcile();
    expect(w.ram.calls).toEqual([]);
    const stalled = w.status()?.conditions?.find((c) => c.type === 'Stalled');
    expect(stalled).toMatchObject({ status: 'True', reason: 'GuardrailViolation' });
    expect(stalled?.message).toMatch(
      /spec\.role\.inlinePolicies\[0\]: inline policy reports grants ram:CreateUser in Statement\[1\]/,
    );
  });

  it('never touches a same-named policy without our tags', async () => {
    const w = world([entry()]);
    await w.ram.createPolicy({
      name: policyName,
      document: JSON.stringify(doc('*', '*')),
      description: '',
      tags: {},
    });
    w.ram.calls.length = 0;
    await w.reconcile();
    expect(w.ram.writes()).toEqual([]);
    expect(w.ready()).toMatchObject({ status: 'False', reason: 'InlinePolicyNotOwned' });
    expect(w.ram.policies.get(policyName)!.versions).toHaveLength(1);
  });

  it('an entry removed from the spec is detached, then its versions and the policy are deleted', async () => {
    const w = world([entry()]);
    await w.reconcile();
    w.setSpec([entry('oss:PutObject')]);
    await w.reconcile();
    w.ram.calls.length = 0;
    w.setSpec([]);
    await w.reconcile();
    expect(w.ram.writes()).toEqual(['detachPolicy', 'deletePolicyVersion', 'deletePolicy']);
    expect(w.ram.policies.size).toBe(0);
    expect(w.status()?.inlinePolicies).toBeUndefined();
  });

  it('deletion (Delete): detached with the role, then non-default versions, then the policy', async () => {
    const w = world([entry()]);
    await w.reconcile();
    w.setSpec([entry('oss:PutObject')]);
    await w.reconcile();
    w.ram.calls.length = 0;
    w.bindings.markDeleted('team-a', 'app');
    await w.reconcile();
    expect(w.ram.writes()).toEqual([
      'detachPolicy',
      'deleteRole',
      'deletePolicyVersion',
      'deletePolicy',
    ]);
    expect(w.ram.policies.size).toBe(0);
    expect(w.bindings.objects.has('team-a/app')).toBe(false);
  });

  it('deletion (Retain): the role keeps its inline policies attached', async () => {
    const w = world([entry()], 'Retain');
    await w.reconcile();
    w.ram.calls.length = 0;
    w.bindings.markDeleted('team-a', 'app');
    await w.reconcile();
    expect(w.ram.writes()).toEqual([]);
    expect(w.ram.policies.has(policyName)).toBe(true);
    expect(w.ram.roles.get(w.roleName)!.attached).toContainEqual({
      type: 'Custom',
      name: policyName,
    });
  });

  it('a binding that never had inline policies makes no policy reads', async () => {
    const w = world([]);
    await w.reconcile();
    await w.reconcile();
    const policyReads = w.ram.calls.filter((c) => /Polic(y|ies)Tag|CustomPolicy/.test(c.method));
    expect(policyReads).toEqual([]);
  });

  it('an adopted role: the inline policy is recorded in the ledger and released on deletion', async () => {
    const w = world([entry()], 'Delete', 'legacy');
    w.ram.seedRole('legacy', { attached: [{ type: 'System', name: 'AliyunOSSReadOnlyAccess' }] });
    await w.reconcile();
    expect(w.ready()?.status).toBe('True');
    const tags = w.ram.roles.get('legacy')!.tags;
    expect(readLedger(tags, id)).toContainEqual({ type: 'Custom', name: policyName });
    w.bindings.markDeleted('team-a', 'app');
    await w.reconcile();
    expect(w.ram.roles.get('legacy')!.attached).toEqual([
      { type: 'System', name: 'AliyunOSSReadOnlyAccess' },
    ]);
    expect(w.ram.policies.size).toBe(0);
  });
});

import {
  bindingFixture,
  reconcilerWorld,
  testCluster as cluster,
} from '../../test/support/fakes.ts';
import { chooseRoleName } from './desired.ts';
import { planObservation } from './drift-check.ts';
import { TAG_BINDING } from './ownership.ts';

const oss = { type: 'System' as const, name: 'AliyunOSSReadOnlyAccess' };

/** A binding reconciled once to Ready; the RAM call log is cleared after that pass. */
async function converged() {
  const { ram, bindings, serviceAccounts, reconciler } = reconcilerWorld();
  const binding = bindings.put(bindingFixture({ role: { policies: [oss] } }));
  serviceAccounts.accounts.set('team-a/app-sa', { annotations: {} });
  await reconciler.reconcile('team-a', 'app');
  const role = ram.roles.get(chooseRoleName(binding, cluster))!;
  ram.calls.length = 0;
  const check = async (): Promise<string[]> => {
    const from = ram.calls.length;
    await reconciler.reconcile('team-a', 'app');
    return ram.calls.slice(from).map((c) => c.method);
  };
  const ready = () =>
    bindings.objects.get('team-a/app')?.status?.conditions?.find((c) => c.type === 'Ready');
  return { ram, role, check, ready, bindings };
}

describe('drift checks of a converged binding', () => {
  it('read the role and one list per check, alternating, and write nothing', async () => {
    const { ram, check } = await converged();
    expect(await check()).toEqual(['getRole', 'listRoleTags']);
    expect(await check()).toEqual(['getRole', 'listPoliciesForRole']);
    expect(await check()).toEqual(['getRole', 'listRoleTags']);
    expect(ram.writes()).toEqual([]);
  });

  it('repair a hand-detached policy within two checks, after reading everything', async () => {
    const { role, check } = await converged();
    role.attached = [];
    const calls = [...(await check()), ...(await check())];
    expect(calls).toContain('attachPolicy');
    // The attach is decided on a full observation: tags were read in the pass that attached.
    const attachPass = calls.slice(calls.lastIndexOf('getRole'));
    expect(attachPass).toEqual(
      expect.arrayContaining(['listPoliciesForRole', 'listRoleTags', 'attachPolicy']),
    );
    expect(role.attached).toEqual([oss]);
  });

  it('repair a trust policy edited in the console at the next check', async () => {
    const { role, check } = await converged();
    const wanted = role.role.trustPolicy;
    role.role.trustPolicy = '{"Version":"1","Statement":[]}';
    const calls = await check();
    expect(calls.slice(0, 3).sort()).toEqual(['getRole', 'listPoliciesForRole', 'listRoleTags']);
    expect(calls).toContain('updateRole');
    expect(JSON.parse(role.role.trustPolicy)).toEqual(JSON.parse(wanted));
  });

  it('never write to a role whose tags were changed to another owner', async () => {
    const { ram, role, check, ready } = await converged();
    role.tags[TAG_BINDING] = 'someone-else';
    role.role.trustPolicy = '{"Version":"1","Statement":[]}'; // drift that would need a write
    await check();
    await check();
    expect(ram.writes()).toEqual([]);
    // The tags name a binding of this namespace that does not exist: a retained role.
    expect(ready()).toMatchObject({ status: 'False', reason: 'RoleRetainedByDeletedBinding' });
  });

  it('read everything for a binding that is not converged at its generation', async () => {
    const { bindings, check } = await converged();
    const stored = bindings.objects.get('team-a/app')!;
    stored.metadata.generation = 2;
    const calls = await check();
    expect(calls.sort()).toEqual(['getRole', 'listPoliciesForRole', 'listRoleTags']);
  });
});

describe('planObservation', () => {
  it('gives adopted roles a full read (their ledger cannot be assumed)', () => {
    const binding = bindingFixture();
    binding.status = {
      observedGeneration: 1,
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          reason: 'Bound',
          message: '',
          observedGeneration: 1,
          lastTransitionTime: '2026-01-01T00:00:00Z',
        },
      ],
      roleOwnership: 'Adopted',
      attachedPolicies: [],
    };
    expect(planObservation(binding, undefined)).toEqual({ kind: 'full' });
    binding.status.roleOwnership = 'Created';
    expect(planObservation(binding, 'tags')).toEqual({ kind: 'half', read: 'policies' });
  });
});

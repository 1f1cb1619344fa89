import type { AccountMapping } from '../api/account-mapping.ts';
import type { PodIdentityBinding } from '../api/types.ts';
import { bindingFixture } from '../../test/support/fakes.ts';
import { decideRoute, deletionRoute, previousAccount } from './account-route.ts';
import { classifyRoleOwnership } from './ownership.ts';

const HOME = '1111111111111111';
const TEAM = '2222222222222222';
const team: AccountMapping = {
  apiVersion: 'rrsa.dev/v1alpha1',
  kind: 'AccountMapping',
  metadata: { name: 'team-a' },
  spec: { accountId: TEAM, managementRoleName: 'rrsa-manager', namespaces: ['team-a'] },
};

function withRole(accountId: string | undefined, roleArnAccount = accountId): PodIdentityBinding {
  return {
    ...bindingFixture(),
    status: {
      roleName: 'rrsa-c1-team-a-app-sa',
      roleArn: `acs:ram::${roleArnAccount}:role/rrsa-c1-team-a-app-sa`,
      ...(accountId ? { accountId } : {}),
    },
  };
}

describe('decideRoute', () => {
  it('routes a new binding to the mapped account, or home when unmapped', () => {
    const binding = bindingFixture();
    const mapped = { kind: 'mapped' as const, mapping: team };
    expect(decideRoute({ binding, resolution: mapped, homeAccountId: HOME })).toEqual(mapped);
    expect(decideRoute({ binding, resolution: { kind: 'home' }, homeAccountId: HOME })).toEqual({
      kind: 'home',
    });
  });

  it('stalls a binding whose role lives in another account than the mapping says, naming both and the fix', () => {
    const route = decideRoute({
      binding: withRole(HOME),
      resolution: { kind: 'mapped', mapping: team },
      homeAccountId: HOME,
    });
    expect(route).toMatchObject({ kind: 'stalled', reason: 'AccountChanged' });
    const message = route.kind === 'stalled' ? route.message : '';
    expect(message).toContain(`account ${TEAM} (AccountMapping team-a)`);
    expect(message).toContain(`the cluster's own account ${HOME}`);
    expect(message).toContain('delete this PodIdentityBinding');
  });

  it('stalls a mapped binding whose mapping went away (no silent move home)', () => {
    const route = decideRoute({
      binding: withRole(TEAM),
      resolution: { kind: 'home' },
      homeAccountId: HOME,
    });
    expect(route).toMatchObject({ kind: 'stalled', reason: 'AccountChanged' });
  });

  it('reads the account from the role ARN of a status written before accountId existed', () => {
    expect(previousAccount(withRole(undefined, HOME))).toBe(HOME);
    const route = decideRoute({
      binding: withRole(undefined, HOME),
      resolution: { kind: 'home' },
      homeAccountId: HOME,
    });
    expect(route).toEqual({ kind: 'home' });
  });

  it('stalls on conflicting mappings', () => {
    const route = decideRoute({
      binding: bindingFixture(),
      resolution: { kind: 'conflict', mappings: ['a', 'b'] },
      homeAccountId: HOME,
    });
    expect(route).toMatchObject({ kind: 'stalled', reason: 'AccountMappingConflict' });
  });
});

describe('deletionRoute', () => {
  it('deletes in the account the role lives in, whatever the mapping says now', () => {
    const route = deletionRoute({
      binding: withRole(TEAM),
      resolution: { kind: 'home' },
      mappings: [team],
      homeAccountId: HOME,
    });
    expect(route).toEqual({ kind: 'mapped', mapping: team });
    expect(
      deletionRoute({
        binding: withRole(HOME),
        resolution: { kind: 'mapped', mapping: team },
        mappings: [team],
        homeAccountId: HOME,
      }),
    ).toEqual({ kind: 'home' });
  });

  it('says so when no mapping reaches the role any more', () => {
    const route = deletionRoute({
      binding: withRole(TEAM),
      resolution: { kind: 'home' },
      mappings: [],
      homeAccountId: HOME,
    });
    expect(route).toMatchObject({ kind: 'stalled', reason: 'AccountUnreachable' });
  });
});

describe('ownership with the account tag', () => {
  const id = { clusterId: 'c1', namespace: 'team-a', name: 'app' };
  const tags = {
    'rrsa.dev/managed-by': 'rrsa-operator',
    'rrsa.dev/cluster-id': 'c1',
    'rrsa.dev/namespace': 'team-a',
    'rrsa.dev/binding': 'app',
  };
  it.each([
    ['a role from before the tag', tags, 'ours'],
    ['a role of this account', { ...tags, 'rrsa.dev/account-id': TEAM }, 'ours'],
    [
      'a role tagged for another account',
      { ...tags, 'rrsa.dev/account-id': HOME },
      'other-binding',
    ],
  ])('%s', (_case, roleTags, kind) => {
    expect(classifyRoleOwnership(roleTags, { ...id, accountId: TEAM }).kind).toBe(kind);
  });
});

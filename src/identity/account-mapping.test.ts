import type { AccountMapping, AccountMappingSpec } from '../api/account-mapping.ts';
import { accountOfArn, needsLabels, resolveAccount, selectorMatches } from './account-mapping.ts';

function mapping(name: string, spec: Partial<AccountMappingSpec>): AccountMapping {
  return {
    apiVersion: 'rrsa.dev/v1alpha1',
    kind: 'AccountMapping',
    metadata: { name },
    spec: { accountId: '2222222222222222', managementRoleName: 'rrsa-manager', ...spec },
  };
}

const byName = mapping('team-a', { namespaces: ['team-a'] });
const bySelector = mapping('payments', {
  accountId: '3333333333333333',
  namespaceSelector: { matchLabels: { 'rrsa.dev/account': 'payments' } },
});

describe('resolveAccount', () => {
  it.each([
    ['a named namespace', { name: 'team-a', labels: {} }, 'team-a'],
    [
      'a namespace matched by labels',
      { name: 'x', labels: { 'rrsa.dev/account': 'payments' } },
      'payments',
    ],
    [
      'a namespace nobody maps',
      { name: 'other', labels: { 'rrsa.dev/account': 'other' } },
      undefined,
    ],
  ])('%s', (_case, ns, expected) => {
    const result = resolveAccount(ns, [byName, bySelector]);
    if (expected === undefined) expect(result).toEqual({ kind: 'home' });
    else
      expect(result).toMatchObject({ kind: 'mapped', mapping: { metadata: { name: expected } } });
  });

  it('reports two mappings that disagree, naming both', () => {
    const ns = { name: 'team-a', labels: { 'rrsa.dev/account': 'payments' } };
    expect(resolveAccount(ns, [bySelector, byName])).toEqual({
      kind: 'conflict',
      mappings: ['payments', 'team-a'],
    });
  });

  it('treats two mappings that agree on account and access as one', () => {
    const twin = mapping('team-a-too', { namespaceSelector: { matchLabels: { team: 'a' } } });
    const result = resolveAccount({ name: 'team-a', labels: { team: 'a' } }, [twin, byName]);
    expect(result).toMatchObject({
      kind: 'mapped',
      mapping: { spec: { accountId: '2222222222222222' } },
    });
  });

  it('does not fall back to the home account when a selector cannot be judged', () => {
    expect(resolveAccount({ name: 'x', labels: undefined }, [bySelector])).toEqual({
      kind: 'unknown',
      mappings: ['payments'],
    });
    // A mapping by name still decides without labels.
    expect(resolveAccount({ name: 'team-a', labels: undefined }, [byName, bySelector]).kind).toBe(
      'mapped',
    );
  });

  it('reads labels only when some mapping has a selector', () => {
    expect(needsLabels([byName])).toBe(false);
    expect(needsLabels([byName, bySelector])).toBe(true);
  });
});

describe('selectorMatches', () => {
  const labels = { tier: 'prod', team: 'a' };
  it.each([
    [{ matchLabels: { tier: 'prod' } }, true],
    [{ matchLabels: { tier: 'dev' } }, false],
    [{ matchExpressions: [{ key: 'team', operator: 'In' as const, values: ['a', 'b'] }] }, true],
    [{ matchExpressions: [{ key: 'team', operator: 'NotIn' as const, values: ['a'] }] }, false],
    [{ matchExpressions: [{ key: 'tier', operator: 'Exists' as const }] }, true],
    [{ matchExpressions: [{ key: 'owner', operator: 'DoesNotExist' as const }] }, true],
    [{}, true],
  ])('%j -> %s', (selector, expected) => {
    expect(selectorMatches(selector, labels)).toBe(expected);
  });
});

it('reads the account of an ARN', () => {
  expect(accountOfArn('acs:ram::2222222222222222:role/x')).toBe('2222222222222222');
  expect(accountOfArn(undefined)).toBeUndefined();
});

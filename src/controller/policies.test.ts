import type { PolicyRef } from '../cloud/ports.ts';
import { planPolicies, samePolicies } from './policies.ts';
import { serviceAccountHolder } from './conflicts.ts';
import { classifyRoleOwnership, ownershipTags } from './ownership.ts';

const sys = (name: string): PolicyRef => ({ type: 'System', name });
const custom = (name: string): PolicyRef => ({ type: 'Custom', name });

describe('planPolicies', () => {
  it('attaches what is missing and, on an owned role, detaches everything else', () => {
    const plan = planPolicies({
      desired: [sys('AliyunCSReadOnlyAccess'), custom('reader')],
      attached: [sys('AliyunCSReadOnlyAccess'), sys('AliyunOSSFullAccess')],
      roleIsOwned: true,
      attachedByBinding: [],
    });
    expect(plan).toEqual({ attach: [custom('reader')], detach: [sys('AliyunOSSFullAccess')] });
  });

  it('on an adopted role detaches only what the binding itself attached', () => {
    const plan = planPolicies({
      desired: [],
      attached: [sys('AliyunCSReadOnlyAccess'), sys('TeamPolicy')],
      roleIsOwned: false,
      attachedByBinding: [sys('AliyunCSReadOnlyAccess')],
    });
    expect(plan).toEqual({ attach: [], detach: [sys('AliyunCSReadOnlyAccess')] });
  });

  it('treats System and Custom policies of the same name as different policies', () => {
    const plan = planPolicies({
      desired: [custom('Reader')],
      attached: [sys('Reader')],
      roleIsOwned: true,
      attachedByBinding: [],
    });
    expect(plan).toEqual({ attach: [custom('Reader')], detach: [sys('Reader')] });
  });

  it('plans nothing when the world already matches, whatever the order', () => {
    const plan = planPolicies({
      desired: [sys('B'), sys('A'), sys('A')],
      attached: [sys('A'), sys('B')],
      roleIsOwned: true,
      attachedByBinding: [],
    });
    expect(plan).toEqual({ attach: [], detach: [] });
    expect(samePolicies([sys('A'), sys('B')], [sys('B'), sys('A'), sys('B')])).toBe(true);
    expect(samePolicies([sys('A')], [custom('A')])).toBe(false);
  });
});

describe('serviceAccountHolder', () => {
  const claim = (name: string, at: string, sa = 'app') => ({
    namespace: 'team-a',
    name,
    serviceAccountName: sa,
    creationTimestamp: at,
  });

  it('gives the ServiceAccount to the oldest binding, then by name', () => {
    const claims = [
      claim('newer', '2026-01-02T00:00:00Z'),
      claim('b-same-time', '2026-01-01T00:00:00Z'),
      claim('a-same-time', '2026-01-01T00:00:00Z'),
      claim('other-sa', '2025-01-01T00:00:00Z', 'other'),
    ];
    expect(serviceAccountHolder(claims, 'team-a', 'app')?.name).toBe('a-same-time');
    expect(serviceAccountHolder(claims, 'team-b', 'app')).toBeUndefined();
  });
});

describe('classifyRoleOwnership', () => {
  const id = { clusterId: 'c1', namespace: 'team-a', name: 'app' };

  it('recognises its own tags', () => {
    expect(classifyRoleOwnership(ownershipTags(id), id)).toEqual({ kind: 'ours' });
  });

  it('refuses a role managed for another cluster or binding', () => {
    const tags = ownershipTags({ ...id, clusterId: 'c2' });
    expect(classifyRoleOwnership(tags, id)).toEqual({
      kind: 'other-binding',
      owner: 'cluster c2, binding team-a/app',
    });
  });

  it('calls a role without our managed-by tag unmanaged, whatever else it carries', () => {
    expect(classifyRoleOwnership({ 'rrsa.dev/namespace': 'team-a', owner: 'me' }, id)).toEqual({
      kind: 'unmanaged',
    });
  });
});

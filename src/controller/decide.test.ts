import { ledgerTagKey } from './adoption-ledger.ts';
import type { PodIdentityBinding } from '../api/types.ts';
import type { RamRole } from '../cloud/ports.ts';
import {
  bindingStatement,
  ownedTrustDocument,
  serializeTrustDocument,
} from '../identity/trust-policy.ts';
import { decideRole, type ObservedRole } from './decide.ts';
import { desiredState } from './desired.ts';
import { ownershipTags } from './ownership.ts';
import type { ClusterIdentity } from './types.ts';

const cluster: ClusterIdentity = {
  clusterId: 'c1',
  accountId: '1234567890123456',
  oidcProviderArn: 'acs:ram::1234567890123456:oidc-provider/ack-rrsa-c1',
  issuerUrl: 'https://issuer.example/c1',
  roleNamePrefix: 'rrsa-',
};

function binding(spec: Partial<PodIdentityBinding['spec']> = {}): PodIdentityBinding {
  return {
    apiVersion: 'rrsa.dev/v1alpha1',
    kind: 'PodIdentityBinding',
    metadata: { name: 'demo', namespace: 'rrsa-demo', generation: 1 },
    spec: { serviceAccountName: 'demo-sa', ...spec },
  };
}

const id = { clusterId: 'c1', namespace: 'rrsa-demo', name: 'demo' };
const oss = { type: 'System' as const, name: 'AliyunOSSReadOnlyAccess' };
const cs = { type: 'System' as const, name: 'AliyunCSReadOnlyAccess' };

function role(trust: unknown, extra: Partial<RamRole> = {}): RamRole {
  return {
    name: 'r',
    arn: 'acs:ram::1234567890123456:role/r',
    roleId: '1',
    trustPolicy: JSON.stringify(trust),
    description: 'Managed by rrsa-operator: PodIdentityBinding rrsa-demo/demo in cluster c1',
    maxSessionDuration: 3600,
    ...extra,
  };
}

function decide(b: PodIdentityBinding, observed: ObservedRole) {
  return decideRole({ desired: desiredState(b, cluster), observed, binding: id });
}

describe('decideRole', () => {
  it('creates a missing role with ownership tags, the owned trust policy and the policies', () => {
    const d = decide(binding({ role: { policies: [oss] } }), {
      role: undefined,
      tags: {},
      attached: [],
    });
    expect(d.kind).toBe('act');
    if (d.kind !== 'act') return;
    expect(d.create?.tags).toEqual(ownershipTags(id));
    expect(JSON.parse(d.create!.trustPolicy)).toEqual(
      ownedTrustDocument(desiredState(binding(), cluster).target),
    );
    expect(d.attach).toEqual([oss]);
  });

  it('does nothing on an owned role that already matches (steady state)', () => {
    const target = desiredState(binding(), cluster).target;
    const d = decide(binding({ role: { policies: [oss] } }), {
      role: role(ownedTrustDocument(target)),
      tags: ownershipTags(id),
      attached: [oss],
    });
    expect(d).toMatchObject({
      kind: 'act',
      create: undefined,
      update: undefined,
      attach: [],
      detach: [],
    });
  });

  it('repairs drift on an owned role: trust rewritten, hand-attached policy detached', () => {
    const d = decide(binding({ role: { policies: [oss] } }), {
      role: role({ Version: '1', Statement: [] }),
      tags: ownershipTags(id),
      attached: [cs],
    });
    expect(d).toMatchObject({ kind: 'act', attach: [oss], detach: [cs] });
    if (d.kind === 'act') expect(d.update?.trustPolicy).toBeDefined();
  });

  it('never touches a pre-existing role it does not own unless adopted', () => {
    const d = decide(binding({ role: { name: 'legacy' } }), {
      role: role({}),
      tags: {},
      attached: [],
    });
    expect(d).toMatchObject({ kind: 'blocked', reason: 'RoleAlreadyExists' });
  });

  it('refuses a role owned by another binding or cluster', () => {
    const d = decide(binding({ role: { name: 'x' } }), {
      role: role({}),
      tags: ownershipTags({ ...id, clusterId: 'other' }),
      attached: [],
    });
    expect(d).toMatchObject({ kind: 'blocked', reason: 'RoleOwnedByAnotherBinding' });
  });

  it('adopts: appends its statement, keeps foreign ones, detaches only what it attached', () => {
    const foreign = {
      Effect: 'Allow',
      Action: 'sts:AssumeRole',
      Principal: { Service: ['ecs.aliyuncs.com'] },
    };
    const b = binding({ role: { name: 'legacy', adopt: true, policies: [oss] } });
    const d = decide(b, {
      role: role({ Version: '1', Statement: [foreign] }),
      tags: {},
      attached: [cs],
    });
    expect(d).toMatchObject({
      kind: 'act',
      ownership: 'Adopted',
      attach: [oss],
      detach: [],
      attachedAfter: [oss],
      // Recorded in RAM before the attach: a failure between the two can orphan nothing.
      ledger: { key: ledgerTagKey(id), beforeAttach: 'System:AliyunOSSReadOnlyAccess' },
    });
    if (d.kind !== 'act') return;
    expect(d.ledger?.afterDetach).toBeUndefined();
    expect(JSON.parse(d.update!.trustPolicy!).Statement).toEqual([
      foreign,
      bindingStatement(desiredState(b, cluster).target),
    ]);
    expect(d.update?.description).toBeUndefined();
    const ledger = { [ledgerTagKey(id)]: 'System:AliyunOSSReadOnlyAccess' };
    const dropped = decide(binding({ role: { name: 'legacy', adopt: true } }), {
      role: role(JSON.parse(d.update!.trustPolicy!)),
      tags: ledger,
      attached: [cs, oss],
    });
    expect(dropped).toMatchObject({
      kind: 'act',
      detach: [oss],
      update: undefined,
      ledger: { afterDetach: '-' },
    });
  });

  it('on an adopted role, status never makes a pre-existing policy ours; only the RAM ledger does', () => {
    const b = {
      ...binding({ role: { name: 'legacy', adopt: true } }),
      status: { attachedPolicies: [cs] },
    };
    const target = desiredState(b, cluster).target;
    const adopted = role({ Version: '1', Statement: [bindingStatement(target)] });
    const d = decide(b, { role: adopted, tags: { [ledgerTagKey(id)]: '-' }, attached: [cs] });
    expect(d).toMatchObject({ kind: 'act', detach: [], attachedAfter: [] });
  });

  it('drops a recorded policy that was detached by hand from the ledger', () => {
    const b = binding({ role: { name: 'legacy', adopt: true, policies: [] } });
    const target = desiredState(b, cluster).target;
    const adopted = role({ Version: '1', Statement: [bindingStatement(target)] });
    const d = decide(b, {
      role: adopted,
      tags: { [ledgerTagKey(id)]: 'System:AliyunOSSReadOnlyAccess' },
      attached: [],
    });
    expect(d).toMatchObject({ kind: 'act', detach: [], ledger: { afterDetach: '-' } });
  });

  it('blocks on an adopted role with an unparseable trust policy', () => {
    const b = binding({ role: { name: 'legacy', adopt: true } });
    const d = decide(b, { role: { ...role({}), trustPolicy: '{' }, tags: {}, attached: [] });
    expect(d).toMatchObject({ kind: 'blocked', reason: 'MalformedTrustPolicy' });
  });

  it('keeps a name once recorded in status even if the prefix changes', () => {
    const b = { ...binding(), status: { roleName: 'rrsa-old-name' } };
    expect(desiredState(b, { ...cluster, roleNamePrefix: 'new-' }).roleName).toBe('rrsa-old-name');
  });

  it('serializes compactly', () => {
    expect(serializeTrustDocument({ Version: '1' })).toBe('{"Version":"1"}');
  });
});

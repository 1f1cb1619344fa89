import type { PodIdentityBinding, PolicySpec } from '../api/types.ts';
import { DEFAULT_GUARDRAILS } from '../identity/guardrails.ts';
import { DEFAULT_DENIED_ACTIONS } from '../identity/policy-grants.ts';
import type { EventType, InvolvedObject } from '../kube/events.ts';
import { ledgerTagKey } from './adoption-ledger.ts';
import { FakeRamPolicies } from '../../test/support/fake-ram-policies.ts';
import { desiredState } from './desired.ts';
import { ownershipTags } from './ownership.ts';
import { checkPolicyGrants, enforcePolicyGrants } from './policy-guard.ts';
import type { ClusterIdentity } from './types.ts';

const cluster: ClusterIdentity = {
  clusterId: 'c1',
  accountId: '1234567890123456',
  oidcProviderArn: 'acs:ram::1234567890123456:oidc-provider/ack-rrsa-c1',
  issuerUrl: 'https://issuer.example/c1',
  roleNamePrefix: 'rrsa-',
};

const custom = (name: string): PolicySpec => ({ type: 'Custom', name });
const document = (action: string | string[]): object => ({
  Version: '1',
  Statement: [{ Effect: 'Allow', Action: action, Resource: '*' }],
});
const admin = document('*');
const reader = document('oss:GetObject');

function binding(
  policies: PolicySpec[],
  extra: Partial<PodIdentityBinding['spec']['role']> = {},
  status?: PodIdentityBinding['status'],
): PodIdentityBinding {
  return {
    apiVersion: 'rrsa.dev/v1alpha1',
    kind: 'PodIdentityBinding',
    metadata: { name: 'demo', namespace: 'ns', generation: 1, uid: 'u1' },
    spec: { serviceAccountName: 'sa', role: { name: 'r', policies, ...extra } },
    ...(status ? { status } : {}),
  };
}

const ours = ownershipTags({ clusterId: 'c1', namespace: 'ns', name: 'demo' });
const LEDGER_KEY = ledgerTagKey({ clusterId: 'c1', namespace: 'ns', name: 'demo' });

describe('checkPolicyGrants', () => {
  it.each<[string, PolicySpec[], (ram: FakeRamPolicies) => void, [string, string, RegExp][]]>([
    ['a harmless Custom policy', [custom('reader')], (r) => r.withPolicy('reader', reader), []],
    [
      'an admin Custom policy, named by field, statement and action',
      [custom('reader'), custom('PlatformAdmin')],
      (r) => r.withPolicy('reader', reader).withPolicy('PlatformAdmin', admin),
      [
        [
          'spec.role.policies[1]',
          'GuardrailViolation',
          /^policy Custom:PlatformAdmin grants \* in Statement\[0\], which covers the privileged action ram:Create\* .*: use a narrower policy or ask the cluster admin$/,
        ],
      ],
    ],
    [
      'a missing Custom policy',
      [custom('nope')],
      () => undefined,
      [['spec.role.policies[0]', 'PolicyNotFound', /^policy Custom:nope does not exist in RAM/]],
    ],
    [
      'a document that is not JSON',
      [custom('broken')],
      (r) => r.withPolicy('broken', '{oops'),
      [['spec.role.policies[0]', 'GuardrailViolation', /cannot be judged \(not JSON/]],
    ],
    [
      'an empty document',
      [custom('empty')],
      (r) => r.withPolicy('empty', ''),
      [['spec.role.policies[0]', 'GuardrailViolation', /cannot be judged/]],
    ],
    [
      'several privileged grants in one policy',
      [custom('mixed')],
      (r) => r.withPolicy('mixed', document(['ram:CreateUser', 'ram:AttachPolicyToUser'])),
      [['spec.role.policies[0]', 'GuardrailViolation', /and 1 more privileged grant/]],
    ],
  ])('%s', async (_name, policies, seed, expected) => {
    const ram = new FakeRamPolicies();
    seed(ram);
    const violations = await checkPolicyGrants(ram, policies, DEFAULT_DENIED_ACTIONS);
    expect(violations.map((v) => [v.field, v.reason, v.message])).toEqual(
      expected.map(([field, reason, message]): unknown[] => [
        field,
        reason,
        expect.stringMatching(message) as unknown,
      ]),
    );
  });

  it('judges System policies by name only (no document read)', async () => {
    const ram = new FakeRamPolicies();
    const policies: PolicySpec[] = [{ type: 'System', name: 'AliyunOSSReadOnlyAccess' }];
    expect(await checkPolicyGrants(ram, policies, DEFAULT_DENIED_ACTIONS)).toEqual([]);
    expect(ram.calls).toEqual([]);
  });

  it('reads a policy listed twice once, and reports both fields', async () => {
    const ram = new FakeRamPolicies().withPolicy('PlatformAdmin', admin);
    const violations = await checkPolicyGrants(
      ram,
      [custom('PlatformAdmin'), custom('platformadmin')],
      DEFAULT_DENIED_ACTIONS,
    );
    expect(violations.map((v) => v.field)).toEqual([
      'spec.role.policies[0]',
      'spec.role.policies[1]',
    ]);
    expect(ram.calls).toEqual(['GetPolicy Custom:PlatformAdmin']);
  });

  it('uses the configured denied actions', async () => {
    const ram = new FakeRamPolicies().withPolicy('writer', document('oss:PutObject'));
    expect(await checkPolicyGrants(ram, [custom('writer')], DEFAULT_DENIED_ACTIONS)).toEqual([]);
    expect(await checkPolicyGrants(ram, [custom('writer')], ['oss:Put*'])).toHaveLength(1);
  });
});

describe('enforcePolicyGrants', () => {
  function run(ram: FakeRamPolicies, b: PodIdentityBinding) {
    const events: [EventType, string, string][] = [];
    const deps = {
      ram,
      cluster,
      guardrails: DEFAULT_GUARDRAILS,
      events: {
        record: (_o: InvolvedObject, type: EventType, reason: string, message: string) =>
          events.push([type, reason, message]),
      },
    };
    return { events, outcome: enforcePolicyGrants(deps, b, desiredState(b, cluster)) };
  }
  const writes = (ram: FakeRamPolicies): string[] =>
    ram.calls.filter((c) => !/^(Get|List)/.test(c));

  it('lets acceptable policies through with reads only', async () => {
    const ram = new FakeRamPolicies().withPolicy('reader', reader);
    const { outcome } = run(ram, binding([custom('reader')]));
    expect(await outcome).toBeUndefined();
    expect(ram.calls).toEqual(['GetPolicy Custom:reader']);
  });

  it('stalls a first pass without any RAM write', async () => {
    const ram = new FakeRamPolicies().withPolicy('PlatformAdmin', admin);
    const { outcome, events } = run(ram, binding([custom('PlatformAdmin')]));
    expect(await outcome).toMatchObject({
      ready: false,
      stalled: true,
      reason: 'GuardrailViolation',
      message: expect.stringContaining(
        'spec.role.policies[0]: policy Custom:PlatformAdmin grants *',
      ),
      details: { PoliciesReady: { status: 'False', reason: 'GuardrailViolation' } },
    });
    expect(writes(ram)).toEqual([]);
    expect(events).toEqual([]);
  });

  it('detaches a policy that became privileged from the role it owns, with a Warning Event', async () => {
    const ram = new FakeRamPolicies()
      .withPolicy('reader', document('ram:*'))
      .withRole('r', ours, [custom('reader'), { type: 'System', name: 'AliyunOSSReadOnlyAccess' }]);
    const b = binding([custom('reader')], {}, { attachedPolicies: [custom('reader')] });
    const { outcome, events } = run(ram, b);
    expect(await outcome).toMatchObject({ reason: 'GuardrailViolation', attachedPolicies: [] });
    expect(writes(ram)).toEqual(['DetachPolicyFromRole r Custom:reader']);
    expect(events).toEqual([
      [
        'Warning',
        'GuardrailViolation',
        expect.stringMatching(
          /^detached Custom:reader from role r: policy Custom:reader grants ram:\*/,
        ),
      ],
    ]);
  });

  it('never touches a role of another binding', async () => {
    const other = ownershipTags({ clusterId: 'c1', namespace: 'ns', name: 'other' });
    const ram = new FakeRamPolicies()
      .withPolicy('PlatformAdmin', admin)
      .withRole('r', other, [custom('PlatformAdmin')]);
    const { outcome } = run(ram, binding([custom('PlatformAdmin')]));
    expect(await outcome).toMatchObject({ reason: 'GuardrailViolation' });
    expect(writes(ram)).toEqual([]);
  });

  it.each<[string, string | undefined, string[]]>([
    [
      'its RAM ledger says this binding attached it',
      'Custom:PlatformAdmin',
      ['DetachPolicyFromRole r Custom:PlatformAdmin', `TagResources r {"${LEDGER_KEY}":"-"}`],
    ],
    ['it was there before adoption', '-', []],
    ['this binding never adopted the role, whatever status says', undefined, []],
  ])('on an adopted role, detaches a refused policy only when %s', async (_n, ledger, expected) => {
    const ram = new FakeRamPolicies()
      .withPolicy('PlatformAdmin', admin)
      .withRole('r', ledger === undefined ? {} : { [LEDGER_KEY]: ledger }, [
        custom('PlatformAdmin'),
      ]);
    // A forged status never counts: only the ledger tag in RAM does.
    const forged = { attachedPolicies: [custom('PlatformAdmin')] };
    const b = binding([custom('PlatformAdmin')], { adopt: true }, forged);
    await run(ram, b).outcome;
    expect(writes(ram)).toEqual(expected);
  });

  it('reports a missing policy as PolicyNotFound and reads no role', async () => {
    const ram = new FakeRamPolicies();
    const { outcome } = run(ram, binding([custom('nope')]));
    expect(await outcome).toMatchObject({
      reason: 'PolicyNotFound',
      stalled: true,
      message: expect.stringContaining('spec.role.policies[0]: policy Custom:nope does not exist'),
    });
    expect(ram.calls).toEqual(['GetPolicy Custom:nope']);
  });
});

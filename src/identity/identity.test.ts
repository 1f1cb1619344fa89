import fc from 'fast-check';
import { defaultRoleName, ROLE_NAME_MAX } from './naming.ts';
import {
  bindingStatement,
  mergeBindingStatement,
  parseTrustDocument,
  removeBindingStatement,
  sameJson,
  type TrustDocument,
  type TrustTarget,
} from './trust-policy.ts';
import { checkAdoption, checkPolicies, checkRoleName, DEFAULT_GUARDRAILS } from './guardrails.ts';

const target: TrustTarget = {
  providerArn: 'acs:ram::1234567890123456:oidc-provider/ack-rrsa-c1',
  issuer: 'https://oidc-ack-cn-hangzhou.oss-cn-hangzhou.aliyuncs.com/c1',
  namespace: 'rrsa-demo',
  serviceAccount: 'demo-sa',
};

describe('defaultRoleName', () => {
  it('is readable, deterministic and cluster-specific', () => {
    const a = defaultRoleName('rrsa-', 'c1', 'rrsa-demo', 'demo-sa');
    expect(a).toMatch(/^rrsa-rrsa-demo\.demo-sa-[0-9a-f]{8}$/);
    expect(defaultRoleName('rrsa-', 'c1', 'rrsa-demo', 'demo-sa')).toBe(a);
    expect(defaultRoleName('rrsa-', 'c2', 'rrsa-demo', 'demo-sa')).not.toBe(a);
  });

  it('always yields a valid RAM role name, distinct for distinct inputs', () => {
    const dns = fc.stringMatching(/^[a-z0-9]([-a-z0-9.]{0,80}[a-z0-9])?$/);
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), dns, dns, (cluster, ns, sa) => {
        const name = defaultRoleName('rrsa-', cluster, ns, sa);
        expect(name.length).toBeLessThanOrEqual(ROLE_NAME_MAX);
        expect(name).toMatch(/^[a-z0-9.-]{1,64}$/);
        expect(defaultRoleName('rrsa-', cluster, ns, `${sa}x`)).not.toBe(name);
      }),
    );
  });
});

describe('trust policy', () => {
  it('builds the ack-ram-tool statement', () => {
    expect(bindingStatement(target)).toEqual({
      Action: 'sts:AssumeRole',
      Effect: 'Allow',
      Principal: { Federated: [target.providerArn] },
      Condition: {
        StringEquals: {
          'oidc:aud': 'sts.aliyuncs.com',
          'oidc:iss': target.issuer,
          'oidc:sub': 'system:serviceaccount:rrsa-demo:demo-sa',
        },
      },
    });
  });

  const foreign = {
    Effect: 'Allow',
    Action: 'sts:AssumeRole',
    Principal: { Service: ['ecs.aliyuncs.com'] },
  };

  it('appends once, preserves foreign statements, and is a no-op the second time', () => {
    const doc: TrustDocument = { Version: '1', Statement: [foreign] };
    const first = mergeBindingStatement(doc, target);
    expect(first.changed).toBe(true);
    expect(first.document.Statement).toEqual([foreign, bindingStatement(target)]);
    const reparsed = parseTrustDocument(JSON.stringify(first.document, null, 4));
    expect(mergeBindingStatement(reparsed, target).changed).toBe(false);
  });

  it('does not rewrite when only order or formatting differ', () => {
    const shuffled = {
      Statement: [
        {
          Condition: {
            StringEquals: {
              'oidc:sub': 'system:serviceaccount:rrsa-demo:demo-sa',
              'oidc:iss': target.issuer,
              'oidc:aud': ['sts.aliyuncs.com'],
            },
          },
          Principal: { Federated: target.providerArn.toString() },
          Effect: 'Allow',
          Action: ['sts:AssumeRole'],
        },
        foreign,
      ],
      Version: '1',
    };
    expect(mergeBindingStatement(shuffled, target).changed).toBe(false);
  });

  it('replaces a drifted or duplicated statement with exactly one correct one', () => {
    const drifted = { ...bindingStatement(target), Effect: 'Deny' };
    const doc = { Version: '1', Statement: [drifted, foreign, bindingStatement(target)] };
    const merged = mergeBindingStatement(doc, target);
    expect(merged.changed).toBe(true);
    expect(merged.document.Statement).toEqual([foreign, bindingStatement(target)]);
  });

  it('removes only the binding statement', () => {
    const doc = { Version: '1', Statement: [foreign, bindingStatement(target)] };
    expect(removeBindingStatement(doc, target).document.Statement).toEqual([foreign]);
    expect(removeBindingStatement({ Version: '1', Statement: [foreign] }, target).changed).toBe(
      false,
    );
  });

  it('treats another namespace as a different target', () => {
    const other = { ...target, namespace: 'tenant-b' };
    const doc = { Version: '1', Statement: [bindingStatement(other)] };
    const merged = mergeBindingStatement(doc, target);
    expect(merged.document.Statement).toHaveLength(2);
  });

  it('compares semantically', () => {
    expect(sameJson({ a: ['x', 'y'], b: 1 }, { b: 1, a: ['y', 'x'] })).toBe(true);
    expect(sameJson({ a: 'x' }, { a: ['x'] })).toBe(true);
    expect(sameJson({ a: 'x' }, { a: 'y' })).toBe(false);
  });

  it('rejects malformed documents with a clear error', () => {
    expect(() => parseTrustDocument('{')).toThrow(/not JSON/);
    expect(() => parseTrustDocument('{"Statement":{}}')).toThrow(/not an array/);
  });
});

describe('guardrails', () => {
  it('denies admin-level policies by default', () => {
    const violations = checkPolicies(
      [
        { type: 'System', name: 'AliyunOSSReadOnlyAccess' },
        { type: 'System', name: 'AdministratorAccess' },
        { type: 'System', name: 'AliyunRAMFullAccess' },
      ],
      DEFAULT_GUARDRAILS,
    );
    expect(violations.map((v) => v.field)).toEqual([
      'spec.role.policies[1]',
      'spec.role.policies[2]',
    ]);
    expect(violations[0]!.message).toContain('System:AdministratorAccess is denied');
  });

  it('honours allow lists, role-name patterns and the adoption switch', () => {
    const guardrails = {
      ...DEFAULT_GUARDRAILS,
      allowedPolicies: ['Custom:team-*'],
      allowedRoleNames: ['team-*'],
    };
    expect(checkPolicies([{ type: 'Custom', name: 'team-a' }], guardrails)).toEqual([]);
    expect(checkPolicies([{ type: 'Custom', name: 'other' }], guardrails)).toHaveLength(1);
    const context = {
      namespace: 'team-a',
      prefix: 'rrsa-',
      derivedName: 'rrsa-team-a.app-12345678',
    };
    expect(checkRoleName('team-x', guardrails, context)).toEqual([]);
    expect(checkRoleName('prod-admin', guardrails, context)[0]!.field).toBe('spec.role.name');
  });

  it('keeps explicit names out of the derived-name space, except the binding’s own', () => {
    const context = {
      namespace: 'team-a',
      prefix: 'rrsa-',
      derivedName: 'rrsa-team-a.app-12345678',
    };
    const open = { ...DEFAULT_GUARDRAILS, allowedRoleNames: ['*'] };
    expect(checkRoleName('rrsa-team-b.payments-abcdef12', open, context)[0]?.message).toMatch(
      /reserved for the names the operator derives/,
    );
    expect(checkRoleName('RRSA-anything', open, context)).toHaveLength(1);
    expect(checkRoleName('rrsa-team-a.app-12345678', open, context)).toEqual([]);
    expect(checkRoleName('my-role', open, { ...context, prefix: '' })).toEqual([]);
  });

  it('expands {namespace} in allowed role names: each tenant gets its own name space', () => {
    const context = { namespace: 'team-a', prefix: 'rrsa-', derivedName: 'rrsa-x' };
    const perTenant = { ...DEFAULT_GUARDRAILS, allowedRoleNames: ['{namespace}-*'] };
    expect(checkRoleName('team-a-reports', perTenant, context)).toEqual([]);
    expect(checkRoleName('team-b-reports', perTenant, context)[0]?.message).toContain('team-a-*');
    expect(checkAdoption(true, DEFAULT_GUARDRAILS)[0]!.message).toContain(
      'does not allow adopting',
    );
    expect(checkAdoption(true, { ...DEFAULT_GUARDRAILS, allowAdoption: true })).toEqual([]);
  });
});

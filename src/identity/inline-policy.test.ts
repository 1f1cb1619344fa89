import {
  inlinePolicyName,
  planPolicyVersion,
  policyDocumentLength,
  policyDocumentProblems,
  samePolicyDocument,
  serializePolicyDocument,
} from './inline-policy.ts';

const read = {
  Version: '1',
  Statement: [{ Effect: 'Allow', Action: ['oss:GetObject'], Resource: 'acs:oss:*:*:reports/*' }],
};

describe('inlinePolicyName', () => {
  it('is deterministic, RAM-legal, lowercase and at most 128 characters', () => {
    const name = inlinePolicyName('rrsa-', 'c1', 'team.a', 'app', 'Read-Reports');
    expect(name).toBe(inlinePolicyName('rrsa-', 'c1', 'team.a', 'app', 'Read-Reports'));
    expect(name).toMatch(/^rrsa-team-a-app-read-reports-[0-9a-f]{8}$/);
    const long = inlinePolicyName('rrsa-', 'c1', 'n'.repeat(63), 'b'.repeat(253), 'e'.repeat(128));
    expect(long.length).toBeLessThanOrEqual(128);
    expect(long).toMatch(/^[a-z0-9-]+$/);
  });

  it('differs between clusters, bindings and entries whose readable parts collide', () => {
    const names = new Set([
      inlinePolicyName('p-', 'c1', 'ns', 'a-b', 'c'),
      inlinePolicyName('p-', 'c1', 'ns', 'a', 'b-c'),
      inlinePolicyName('p-', 'c2', 'ns', 'a', 'b-c'),
    ]);
    expect(names.size).toBe(3);
  });
});

describe('policyDocumentProblems', () => {
  it('accepts Action/Resource, NotAction/NotResource and Conditions', () => {
    expect(policyDocumentProblems(read)).toEqual([]);
    expect(
      policyDocumentProblems({
        Version: '1',
        Statement: [
          {
            Effect: 'Deny',
            NotAction: 'oss:Get*',
            NotResource: ['acs:oss:*:*:public/*'],
            Condition: {
              IpAddress: { 'acs:SourceIp': ['10.0.0.0/8'] },
              Bool: { 'acs:MFAPresent': true },
            },
          },
        ],
      }),
    ).toEqual([]);
  });

  it.each<[unknown, RegExp]>([
    [{ Version: 1, Statement: read.Statement }, /Version must be "1"/],
    [{ Version: '1', Statement: [] }, /Statement must be a non-empty list/],
    [
      { Version: '1', Statement: [{ Effect: 'Permit', Action: 'a:b', Resource: '*' }] },
      /Statement\[0\]\.Effect must be Allow or Deny/,
    ],
    [
      {
        Version: '1',
        Statement: [{ Effect: 'Allow', Action: 'a:b', NotAction: 'c:d', Resource: '*' }],
      },
      /exactly one of Action and NotAction/,
    ],
    [
      { Version: '1', Statement: [{ Effect: 'Allow', Action: 'a:b' }] },
      /exactly one of Resource and NotResource/,
    ],
    [
      { Version: '1', Statement: [{ Effect: 'Allow', Action: [], Resource: '*' }] },
      /Action must be a string or a list of strings/,
    ],
    [
      { Version: '1', Statement: [{ Effect: 'Allow', Action: 'a:b', Resource: '*', Sid: 'x' }] },
      /Sid is not a RAM policy element/,
    ],
    [
      {
        Version: '1',
        Statement: [
          { Effect: 'Allow', Action: 'a:b', Resource: '*', Condition: { StringEquals: { k: {} } } },
        ],
      },
      /Condition\.StringEquals\.k must be/,
    ],
  ])('refuses %j', (document, message) => {
    expect(policyDocumentProblems(document).join('; ')).toMatch(message);
  });

  it('counts the compact JSON sent to RAM against 6144, in UTF-8 bytes', () => {
    const fits = {
      Version: '1',
      Statement: [{ Effect: 'Allow', Action: 'oss:GetObject', Resource: '' }],
    };
    const overhead = serializePolicyDocument(fits).length;
    fits.Statement[0]!.Resource = 'r'.repeat(6144 - overhead);
    expect(policyDocumentLength(serializePolicyDocument(fits))).toBe(6144);
    expect(policyDocumentProblems(fits)).toEqual([]);
    fits.Statement[0]!.Resource += 'r';
    expect(policyDocumentProblems(fits).join()).toMatch(/6145 characters .* more than RAM's 6144/);
    expect(policyDocumentLength('ü')).toBe(2);
  });
});

describe('samePolicyDocument', () => {
  it('ignores key order, statement order and string-or-list', () => {
    const stored =
      '{"Statement":[{"Resource":["acs:oss:*:*:reports/*"],"Action":"oss:GetObject","Effect":"Allow"}],"Version":"1"}';
    expect(samePolicyDocument(stored, read)).toBe(true);
    expect(samePolicyDocument(stored.replace('GetObject', 'PutObject'), read)).toBe(false);
    expect(samePolicyDocument('not json', read)).toBe(false);
  });
});

describe('planPolicyVersion', () => {
  const text = serializePolicyDocument(read);
  const other = (n: number): string => text.replace('GetObject', `Get${n}`);
  const versions = (n: number, defaultIndex = n) =>
    Array.from({ length: n }, (_, i) => ({
      versionId: `v${i + 1}`,
      isDefault: i + 1 === defaultIndex,
      document: other(i + 1),
    }));

  it('writes nothing when the default version says the same', () => {
    expect(planPolicyVersion([{ versionId: 'v1', isDefault: true, document: text }], read)).toEqual(
      { kind: 'unchanged' },
    );
  });

  it('repairs drift by making an earlier identical version the default again', () => {
    const drifted = [
      { versionId: 'v1', isDefault: false, document: text },
      { versionId: 'v2', isDefault: true, document: other(2) },
    ];
    expect(planPolicyVersion(drifted, read)).toEqual({ kind: 'set-default', versionId: 'v1' });
  });

  it('creates a version, pruning the oldest non-default ones to stay under 5', () => {
    expect(planPolicyVersion(versions(2), read)).toEqual({ kind: 'create', prune: [] });
    expect(planPolicyVersion(versions(4), read)).toEqual({ kind: 'create', prune: [] });
    expect(planPolicyVersion(versions(5), read)).toEqual({ kind: 'create', prune: ['v1'] });
    // The default (v1 here) is never pruned; v10 sorts after v2 numerically.
    const mixed = [...versions(4, 1), { versionId: 'v10', isDefault: false, document: other(10) }];
    expect(planPolicyVersion(mixed, read)).toEqual({ kind: 'create', prune: ['v2'] });
  });
});

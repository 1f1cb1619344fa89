import fc from 'fast-check';
import {
  DEFAULT_DENIED_ACTIONS,
  globContains,
  globsOverlap,
  judgePolicyDocument,
  type PolicyJudgement,
} from './policy-grants.ts';

const allow = (action: unknown, resource: unknown = '*'): object => ({
  Effect: 'Allow',
  Action: action,
  Resource: resource,
});
const doc = (...statements: object[]): string =>
  JSON.stringify({ Version: '1', Statement: statements });
const judge = (document: string): PolicyJudgement =>
  judgePolicyDocument(document, DEFAULT_DENIED_ACTIONS);
/** The (action, deniedBy) pairs found, or 'unjudgeable'. */
const verdict = (document: string): [string, string][] | 'unjudgeable' => {
  const j = judge(document);
  return j.kind === 'unjudgeable' ? 'unjudgeable' : j.grants.map((g) => [g.action, g.deniedBy]);
};

const ROLE = 'acs:ram::1234567890123456:role/app-reader';

describe('judgePolicyDocument with the default denied actions', () => {
  it.each<[string, string, [string, string][] | 'unjudgeable']>([
    ['everything', doc(allow('*')), [['*', 'ram:Create*']]],
    ['every action of every service', doc(allow('*:*')), [['*:*', 'ram:Create*']]],
    ['all of RAM', doc(allow('ram:*')), [['ram:*', 'ram:Create*']]],
    [
      'upper-case service prefix',
      doc(allow('RAM:CreateRole')),
      [['RAM:CreateRole', 'ram:Create*']],
    ],
    ['a write wildcard', doc(allow('ram:Create*')), [['ram:Create*', 'ram:Create*']]],
    ['a wildcard wider than one write family', doc(allow('ram:C*')), [['ram:C*', 'ram:Create*']]],
    ['a service wildcard', doc(allow('r*:*')), [['r*:*', 'ram:Create*']]],
    [
      'one privileged action in a list',
      doc(allow(['oss:GetObject', 'ram:AttachPolicyToRole'])),
      [['ram:AttachPolicyToRole', 'ram:Attach*']],
    ],
    ['Action as a string', doc(allow('ram:DeleteRole')), [['ram:DeleteRole', 'ram:Delete*']]],
    ['read-only RAM', doc(allow(['ram:Get*', 'ram:List*'])), []],
    ['all of OSS', doc(allow('oss:*')), []],
    ['a concrete OSS read', doc(allow('oss:GetObject', 'acs:oss:*:*:bucket/*')), []],
    [
      'NotAction Allow: everything but OSS',
      doc({ Effect: 'Allow', NotAction: ['oss:*'], Resource: '*' }),
      DEFAULT_DENIED_ACTIONS.map((d) => ['NotAction ["oss:*"]', d]),
    ],
    [
      'NotAction Allow excluding every privileged family',
      doc({
        Effect: 'Allow',
        NotAction: ['ram:*', 'sts:*', 'ims:*', 'resourcemanager:*'],
        Resource: '*',
      }),
      [],
    ],
    [
      'NotAction Allow that leaves sts:AssumeRole on *',
      doc({ Effect: 'Allow', NotAction: ['ram:*', 'ims:*', 'resourcemanager:*'], Resource: '*' }),
      [['NotAction ["ram:*","ims:*","resourcemanager:*"]', 'sts:AssumeRole']],
    ],
    ['a Deny of everything', doc({ Effect: 'Deny', Action: '*', Resource: '*' }), []],
    [
      'Deny does not cancel an Allow (conservative)',
      doc(allow('ram:*'), { Effect: 'Deny', Action: 'ram:*', Resource: '*' }),
      [['ram:*', 'ram:Create*']],
    ],
    ['sts:AssumeRole on *', doc(allow('sts:AssumeRole')), [['sts:AssumeRole', 'sts:AssumeRole']]],
    [
      'sts:AssumeRole on every role of an account',
      doc(allow('sts:AssumeRole', 'acs:ram::1234567890123456:role/*')),
      [['sts:AssumeRole', 'sts:AssumeRole']],
    ],
    [
      'sts:AssumeRole on roles of any account',
      doc(allow('sts:AssumeRole', 'acs:ram::*:role/*')),
      [['sts:AssumeRole', 'sts:AssumeRole']],
    ],
    ['sts:AssumeRole on one role', doc(allow('sts:AssumeRole', ROLE)), []],
    [
      'sts:AssumeRole on a list of named roles',
      doc(allow('sts:AssumeRole', [ROLE, `${ROLE}2`])),
      [],
    ],
    ['sts:* on *', doc(allow('sts:*')), [['sts:*', 'sts:AssumeRole']]],
    ['sts:* on one role', doc(allow('sts:*', ROLE)), []],
    [
      'sts:AssumeRole with NotResource',
      doc({ Effect: 'Allow', Action: 'sts:AssumeRole', NotResource: ROLE }),
      [['sts:AssumeRole', 'sts:AssumeRole']],
    ],
    [
      'sts:AssumeRole with no Resource',
      doc({ Effect: 'Allow', Action: 'sts:AssumeRole' }),
      [['sts:AssumeRole', 'sts:AssumeRole']],
    ],
    [
      'ram:* on one role is still RAM writes',
      doc(allow('ram:*', ROLE)),
      [['ram:*', 'ram:Create*']],
    ],
    [
      'an OIDC provider write',
      doc(allow('ims:CreateOIDCProvider')),
      [['ims:CreateOIDCProvider', 'ims:*']],
    ],
    [
      'resource manager',
      doc(allow('resourcemanager:*')),
      [['resourcemanager:*', 'resourcemanager:*']],
    ],
    [
      'a Condition does not make an Allow harmless',
      doc({
        ...allow('ram:CreateUser'),
        Condition: { IpAddress: { 'acs:SourceIp': '10.0.0.0/8' } },
      }),
      [['ram:CreateUser', 'ram:Create*']],
    ],
    [
      'Statement as a single object',
      JSON.stringify({ Version: '1', Statement: allow('ram:*') }),
      [['ram:*', 'ram:Create*']],
    ],
    ['an empty Statement list', doc(), []],
    ['not JSON', '{"Version": "1", Statement', 'unjudgeable'],
    ['no Statement', JSON.stringify({ Version: '1' }), 'unjudgeable'],
    ['a JSON array', '[]', 'unjudgeable'],
    ['Effect missing', doc({ Action: 'oss:*', Resource: '*' }), 'unjudgeable'],
    ['Action a number', doc(allow(7)), 'unjudgeable'],
    ['both Action and NotAction', doc({ ...allow('oss:*'), NotAction: 'ram:*' }), 'unjudgeable'],
    ['neither Action nor NotAction', doc({ Effect: 'Allow', Resource: '*' }), 'unjudgeable'],
  ])('%s', (_name, document, expected) => {
    expect(verdict(document)).toEqual(expected);
  });

  it('reports the statement index of the privileged statement', () => {
    const j = judge(doc(allow('oss:GetObject'), allow('ecs:Describe*'), allow('ram:PutX')));
    expect(j).toEqual({
      kind: 'judged',
      grants: [{ statementIndex: 2, action: 'ram:PutX', deniedBy: 'ram:Put*' }],
    });
  });

  it('says why a document cannot be judged', () => {
    expect(judge('nope')).toMatchObject({
      kind: 'unjudgeable',
      reason: expect.stringMatching(/^not JSON/),
    });
  });

  it('judges against the configured list, not the default', () => {
    expect(judgePolicyDocument(doc(allow('oss:PutObject')), ['oss:Put*'])).toEqual({
      kind: 'judged',
      grants: [{ statementIndex: 0, action: 'oss:PutObject', deniedBy: 'oss:Put*' }],
    });
    expect(judgePolicyDocument(doc(allow('*')), [])).toEqual({ kind: 'judged', grants: [] });
  });
});

describe('globsOverlap', () => {
  it.each<[string, string, boolean]>([
    ['ram:C*', 'ram:Create*', true],
    ['ram:Create*', 'ram:C*', true],
    ['*Role', 'ram:Create*', true],
    ['*Policy', 'ram:*Role', false],
    ['ram:Get*', 'ram:Create*', false],
    ['ram:*Role', 'ram:Create*', true],
    ['a*b', 'ab', true],
    ['a*b', 'a', false],
    ['*', '', true],
    ['', '', true],
    ['x', '', false],
    ['RAM:createrole', 'ram:Create*', true],
  ])('%s and %s: %s', (a, b, expected) => {
    expect(globsOverlap(a, b)).toBe(expected);
    expect(globsOverlap(b, a)).toBe(expected);
  });

  // Every word over {a,b} up to length 8. A shortest common word spends each letter on a literal
  // of at least one pattern, so for two patterns of at most 4 characters it is at most 8 long.
  const words = ((): string[] => {
    const out = [''];
    for (let n = 0; n < out.length; n++)
      if (out[n]!.length < 8) out.push(`${out[n]}a`, `${out[n]}b`);
    return out;
  })();
  const pattern = fc.stringMatching(/^[ab*]{0,4}$/);
  const language = (glob: string): Set<string> => {
    const re = new RegExp(`^${glob.replace(/\*/g, '.*')}$`);
    return new Set(words.filter((w) => re.test(w)));
  };

  it('agrees with a brute-force search for a common word', () => {
    fc.assert(
      fc.property(pattern, pattern, (a, b) => {
        const right = language(b);
        const witness = [...language(a)].some((w) => right.has(w));
        expect(globsOverlap(a, b)).toBe(witness);
      }),
      { numRuns: 300 },
    );
  });

  it('globContains is sound: every word of the inner pattern matches the outer', () => {
    fc.assert(
      fc.property(pattern, pattern, (outer, inner) => {
        if (!globContains(outer, inner)) return;
        const big = language(outer);
        for (const w of language(inner)) expect(big.has(w)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it.each<[string, string, boolean]>([
    ['ram:*', 'ram:Create*', true],
    ['*', 'ims:*', true],
    ['ram:Create*', 'ram:*', false],
    ['oss:*', 'ram:Create*', false],
    ['STS:*', 'sts:AssumeRole', true],
  ])('globContains(%s, %s): %s', (outer, inner, expected) => {
    expect(globContains(outer, inner)).toBe(expected);
  });
});

import { formatProblems, validateSpec } from './validate.ts';

describe('validateSpec', () => {
  it('accepts the DESIGN example', () => {
    const result = validateSpec({
      serviceAccountName: 'demo-sa',
      role: {
        name: 'ack-pod-identity-webhook-demo',
        policies: [{ type: 'System', name: 'AliyunCSReadOnlyAccess' }],
      },
      tokenExpirationSeconds: 3600,
      deletionPolicy: 'Delete',
    });
    expect(result.valid).toBe(true);
  });

  it.each([
    [{}, 'spec.serviceAccountName: is required'],
    [{ serviceAccountName: 'Bad_SA' }, 'spec.serviceAccountName: must match'],
    [
      { serviceAccountName: 'sa', role: { maxSessionDuration: 100 } },
      'spec.role.maxSessionDuration: must be >= 3600',
    ],
    [
      { serviceAccountName: 'sa', tokenExpirationSeconds: 43201 },
      'spec.tokenExpirationSeconds: must be <= 43200',
    ],
    [{ serviceAccountName: 'sa', role: { name: 'has space' } }, 'spec.role.name: must match'],
    [
      { serviceAccountName: 'sa', role: { name: 'x'.repeat(65) } },
      'spec.role.name: must NOT have more than 64',
    ],
    [
      { serviceAccountName: 'sa', role: { policies: [{ type: 'Managed', name: 'P' }] } },
      'spec.role.policies[0].type: must be one of System, Custom',
    ],
    [
      { serviceAccountName: 'sa', deletionPolicy: 'Orphan' },
      'spec.deletionPolicy: must be one of Delete, Retain',
    ],
    [{ serviceAccountName: 'sa', rolename: 'x' }, 'spec.rolename: is not a known field'],
    [
      { serviceAccountName: 'sa', role: { adopt: true } },
      'spec.role.name: required when spec.role.adopt',
    ],
    [
      {
        serviceAccountName: 'sa',
        role: {
          policies: [
            { type: 'System', name: 'A' },
            { type: 'System', name: 'A' },
          ],
        },
      },
      'spec.role.policies[1]: duplicate policy System:A',
    ],
  ])('rejects %j with a message naming the field', (spec, expected) => {
    const result = validateSpec(spec);
    expect(result.valid).toBe(false);
    if (!result.valid) expect(formatProblems(result.problems)).toContain(expected);
  });
});

describe('validateSpec: inline policies', () => {
  const document = {
    Version: '1',
    Statement: [{ Effect: 'Allow', Action: 'oss:GetObject', Resource: 'acs:oss:*:*:reports/*' }],
  };
  const spec = (inlinePolicies: unknown[], policies: unknown[] = []) => ({
    serviceAccountName: 'sa',
    role: { policies, inlinePolicies },
  });

  it('accepts a valid entry', () => {
    expect(validateSpec(spec([{ name: 'read-reports', document }])).valid).toBe(true);
  });

  it.each<[unknown, string]>([
    [spec([{ name: 'bad_name', document }]), 'spec.role.inlinePolicies[0].name: must match'],
    [
      spec([
        { name: 'a', document },
        { name: 'A', document },
      ]),
      'spec.role.inlinePolicies[1].name: duplicate inline policy name A',
    ],
    [
      spec([
        { name: 'a', document: { ...document, Statement: [{ Effect: 'Allow', Action: 'x:y' }] } },
      ]),
      'spec.role.inlinePolicies[0].document: Statement[0] needs exactly one of Resource and NotResource',
    ],
    [
      spec([{ name: 'a', document: { ...document, Version: '2' } }]),
      'spec.role.inlinePolicies[0].document.Version: must be one of 1',
    ],
    [
      spec(
        [{ name: 'a', document }],
        Array.from({ length: 10 }, (_, i) => ({ type: 'Custom', name: `p${i}` })),
      ),
      'spec.role.inlinePolicies: RAM attaches at most 10 Custom policies',
    ],
  ])('refuses %j', (input, message) => {
    const result = validateSpec(input);
    expect(result.valid).toBe(false);
    if (!result.valid) expect(formatProblems(result.problems)).toContain(message);
  });
});

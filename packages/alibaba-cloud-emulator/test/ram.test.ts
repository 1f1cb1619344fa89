import { start, type RunningEmulator } from '../src/index.ts';
import { AlibabaRam } from '../../../src/cloud/alibaba-ram.ts';
import { $Ram, clientsFor, permission, sdkError, TRUST_ROOT } from './support.ts';
import type { SdkClients } from '../../../src/cloud/sdk-clients.ts';

let emulator: RunningEmulator;
let ram: SdkClients['ram'];

beforeAll(async () => {
  emulator = await start({ seed: 'ram-test' });
  ram = clientsFor(emulator).ram;
});
afterAll(() => emulator.stop());
beforeEach(() => emulator.controls.reset());

const createRole = (roleName: string, extra: Record<string, unknown> = {}) =>
  ram.createRole(
    new $Ram.CreateRoleRequest({ roleName, assumeRolePolicyDocument: TRUST_ROOT, ...extra }),
  );

describe('RAM roles through @alicloud/ram20150501', () => {
  it('creates, reads, updates and deletes a role; GetRole returns the trust document verbatim', async () => {
    const trust = `{ "Statement": [{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"RAM":["acs:ram::1234567890123456:root"]}}],\n "Version": "1" }`;
    const created = await ram.createRole(
      new $Ram.CreateRoleRequest({
        roleName: 'App-Role.1',
        assumeRolePolicyDocument: trust,
        description: "d (x)*!' ~ ü",
        maxSessionDuration: 7200,
      }),
    );
    expect(created.statusCode).toBe(200);
    expect(created.body?.role).toMatchObject({
      roleName: 'App-Role.1',
      arn: 'acs:ram::1234567890123456:role/App-Role.1',
      maxSessionDuration: 7200,
      description: "d (x)*!' ~ ü",
    });
    expect(created.body?.role?.roleId).toMatch(/^\d{19}$/);
    expect(created.body?.role?.createDate).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

    const got = await ram.getRole(new $Ram.GetRoleRequest({ roleName: 'app-role.1' }));
    expect(got.body?.role?.assumeRolePolicyDocument).toBe(trust);
    expect(got.body?.role?.roleName).toBe('App-Role.1');

    const updated = await ram.updateRole(
      new $Ram.UpdateRoleRequest({
        roleName: 'App-Role.1',
        newDescription: 'new',
        newMaxSessionDuration: 43200,
      }),
    );
    expect(updated.body?.role).toMatchObject({ description: 'new', maxSessionDuration: 43200 });
    expect(updated.body?.role?.assumeRolePolicyDocument).toBe(trust);

    await ram.deleteRole(new $Ram.DeleteRoleRequest({ roleName: 'App-Role.1' }));
    const gone = await sdkError(ram.getRole(new $Ram.GetRoleRequest({ roleName: 'App-Role.1' })));
    expect(gone).toMatchObject({
      name: 'ClientError',
      code: 'EntityNotExist.Role',
      statusCode: 404,
    });
    expect(gone.data).toMatchObject({ Code: 'EntityNotExist.Role', HostId: 'ram.aliyuncs.com' });
    expect(Object.keys(gone.data).sort()).toEqual([
      'Code',
      'HostId',
      'Message',
      'Recommend',
      'RequestId',
    ]);
  });

  it('keeps role names unique case-insensitively', async () => {
    await createRole('Unique');
    const error = await sdkError(createRole('uNIQUE'));
    expect(error).toMatchObject({ code: 'EntityAlreadyExists.Role', statusCode: 409 });
    expect(error.data.Message).toBe('The role does already EXIST.');
  });

  it('validates parameters with Alibaba codes', async () => {
    const cases: [Promise<unknown>, string, number][] = [
      [createRole('bad_name'), 'InvalidParameter.RoleName.InvalidChars', 400],
      [createRole('x'.repeat(65)), 'InvalidParameter.RoleName.Length', 400],
      [createRole('ok', { maxSessionDuration: 3599 }), 'InvalidParameter.MaxSessionDuration', 400],
      [createRole('ok', { maxSessionDuration: 43201 }), 'InvalidParameter.MaxSessionDuration', 400],
      [
        createRole('ok', { description: 'd'.repeat(1025) }),
        'InvalidParameter.Description.Length',
        400,
      ],
      [
        ram.createRole(new $Ram.CreateRoleRequest({ roleName: 'ok' })),
        'MissingAssumeRolePolicyDocument',
        400,
      ],
      [
        ram.createRole(
          new $Ram.CreateRoleRequest({ roleName: 'ok', assumeRolePolicyDocument: '{"Version":' }),
        ),
        'MalformedPolicyDocument',
        400,
      ],
      [
        ram.createPolicy(
          new $Ram.CreatePolicyRequest({ policyName: 'p', policyDocument: 'not json' }),
        ),
        'MalformedPolicyDocument',
        400,
      ],
      [
        ram.createPolicy(
          new $Ram.CreatePolicyRequest({
            policyName: 'bad.name',
            policyDocument: permission('ram:*'),
          }),
        ),
        'InvalidParameter.PolicyName.InvalidChars',
        400,
      ],
      [
        ram.getPolicy(new $Ram.GetPolicyRequest({ policyName: 'p', policyType: 'Other' })),
        'InvalidParameter.PolicyType',
        400,
      ],
    ];
    for (const [call, code, status] of cases) {
      expect(await sdkError(call)).toMatchObject({ code, statusCode: status });
    }
    expect((await sdkError(createRole('bad_name'))).data.Message).toBe(
      'The parameter - "RoleName" contains invalid chars.',
    );
    expect(
      (await sdkError(ram.createRole(new $Ram.CreateRoleRequest({ roleName: 'ok' })))).data.Message,
    ).toBe('AssumeRolePolicyDocument is mandatory for this action.');
  });

  it('accepts a 6,144-character policy in the query string and refuses a longer one', async () => {
    const pad = (n: number): string => {
      const base = permission('ram:Get*');
      const filler = `{"Version":"1","Statement":[{"Effect":"Allow","Action":"ram:Get*","Resource":"*","Condition":{"StringEquals":{"x":"`;
      const rest = n - filler.length - '"}}}]}'.length;
      return rest > 0 ? `${filler}${'y'.repeat(rest)}"}}}]}` : base;
    };
    const ok = await ram.createPolicy(
      new $Ram.CreatePolicyRequest({ policyName: 'big', policyDocument: pad(6144) }),
    );
    expect(ok.body?.policy?.policyName).toBe('big');
    const tooLong = await sdkError(
      ram.createPolicy(
        new $Ram.CreatePolicyRequest({ policyName: 'big2', policyDocument: pad(6145) }),
      ),
    );
    expect(tooLong).toMatchObject({
      code: 'InvalidParameter.PolicyDocument.Length',
      statusCode: 400,
    });
    // ~12k characters no longer fits a default Node server's 16 KiB request line (§2.7).
    const huge = await sdkError(
      ram.createPolicy(
        new $Ram.CreatePolicyRequest({ policyName: 'big3', policyDocument: pad(12000) }),
      ),
    );
    expect(huge.code).toBe('InvalidParameter.PolicyDocument.Length');
  });

  it('pages ListRoles with Marker / MaxItems in creation order', async () => {
    for (let i = 0; i < 7; i++) await createRole(`page-${i}`);
    const names: string[] = [];
    let marker: string | undefined;
    let pages = 0;
    do {
      const res = await ram.listRoles(
        new $Ram.ListRolesRequest({ maxItems: 3, ...(marker ? { marker } : {}) }),
      );
      names.push(...(res.body?.roles?.role ?? []).map((r) => r.roleName ?? ''));
      expect(res.body?.isTruncated).toBe(res.body?.marker !== undefined);
      marker = res.body?.marker;
      pages++;
    } while (marker);
    expect(pages).toBe(3);
    expect(names).toEqual([0, 1, 2, 3, 4, 5, 6].map((i) => `page-${i}`));
    expect(
      (await sdkError(ram.listRoles(new $Ram.ListRolesRequest({ maxItems: 1001 })))).code,
    ).toBe('InvalidParameter.MaxItems');
  });
});

describe('RAM policies and attachments', () => {
  it('runs the custom policy lifecycle with versions', async () => {
    await createRole('worker');
    const created = await ram.createPolicy(
      new $Ram.CreatePolicyRequest({
        policyName: 'read-ram',
        policyDocument: permission('ram:Get*'),
        description: 'reads',
      }),
    );
    expect(created.body?.policy).toMatchObject({
      policyName: 'read-ram',
      policyType: 'Custom',
      defaultVersion: 'v1',
    });
    expect(
      (
        await sdkError(
          ram.createPolicy(
            new $Ram.CreatePolicyRequest({
              policyName: 'READ-RAM',
              policyDocument: permission('ram:*'),
            }),
          ),
        )
      ).code,
    ).toBe('EntityAlreadyExists.Policy');

    const v2 = await ram.createPolicyVersion(
      new $Ram.CreatePolicyVersionRequest({
        policyName: 'read-ram',
        policyDocument: permission('ram:List*'),
        setAsDefault: true,
      }),
    );
    expect(v2.body?.policyVersion).toMatchObject({ versionId: 'v2', isDefaultVersion: true });
    const versions = await ram.listPolicyVersions(
      new $Ram.ListPolicyVersionsRequest({ policyName: 'read-ram', policyType: 'Custom' }),
    );
    expect(versions.body?.policyVersions?.policyVersion?.map((v) => v.versionId)).toEqual([
      'v1',
      'v2',
    ]);
    const got = await ram.getPolicy(
      new $Ram.GetPolicyRequest({ policyName: 'read-ram', policyType: 'Custom' }),
    );
    expect(got.body?.policy?.policyDocument).toBe(permission('ram:List*'));
    expect(got.body?.defaultPolicyVersion?.versionId).toBe('v2');
  });

  it('attaches and detaches policies with the attachment conflicts and DeleteConflict.Role.Policy', async () => {
    await createRole('worker');
    await ram.createPolicy(
      new $Ram.CreatePolicyRequest({
        policyName: 'read-ram',
        policyDocument: permission('ram:Get*'),
      }),
    );
    const attach = (policyName: string, policyType: string) =>
      ram.attachPolicyToRole(
        new $Ram.AttachPolicyToRoleRequest({ roleName: 'worker', policyName, policyType }),
      );
    const detach = (policyName: string, policyType: string) =>
      ram.detachPolicyFromRole(
        new $Ram.DetachPolicyFromRoleRequest({ roleName: 'worker', policyName, policyType }),
      );
    await attach('read-ram', 'Custom');
    await attach('AliyunOSSReadOnlyAccess', 'System');
    expect(await sdkError(attach('read-ram', 'Custom'))).toMatchObject({
      code: 'EntityAlreadyExists.Role.Policy',
      statusCode: 409,
    });
    expect(await sdkError(attach('NoSuchPolicy', 'System'))).toMatchObject({
      code: 'EntityNotExist.Policy',
      statusCode: 404,
    });
    const listed = await ram.listPoliciesForRole(
      new $Ram.ListPoliciesForRoleRequest({ roleName: 'worker' }),
    );
    expect(listed.body?.policies?.policy?.map((p) => [p.policyType, p.policyName])).toEqual([
      ['Custom', 'read-ram'],
      ['System', 'AliyunOSSReadOnlyAccess'],
    ]);
    const entities = await ram.listEntitiesForPolicy(
      new $Ram.ListEntitiesForPolicyRequest({ policyName: 'read-ram', policyType: 'Custom' }),
    );
    expect(entities.body?.roles?.role?.map((r) => r.roleName)).toEqual(['worker']);

    const conflict = await sdkError(
      ram.deleteRole(new $Ram.DeleteRoleRequest({ roleName: 'worker' })),
    );
    expect(conflict).toMatchObject({ code: 'DeleteConflict.Role.Policy', statusCode: 409 });
    expect(conflict.data.Message).toBe(
      'The role CAN NOT has any attached policy while deleting the role.',
    );

    await detach('read-ram', 'Custom');
    expect(await sdkError(detach('read-ram', 'Custom'))).toMatchObject({
      code: 'EntityNotExist.Role.Policy',
      statusCode: 404,
    });
    await detach('AliyunOSSReadOnlyAccess', 'System');
    await ram.deleteRole(new $Ram.DeleteRoleRequest({ roleName: 'worker' }));

    await ram.createPolicyVersion(
      new $Ram.CreatePolicyVersionRequest({
        policyName: 'read-ram',
        policyDocument: permission('ram:List*'),
        setAsDefault: true,
      }),
    );
    await ram.deletePolicyVersion(
      new $Ram.DeletePolicyVersionRequest({ policyName: 'read-ram', versionId: 'v1' }),
    );
    expect(
      (
        await sdkError(
          ram.deletePolicyVersion(
            new $Ram.DeletePolicyVersionRequest({ policyName: 'read-ram', versionId: 'v2' }),
          ),
        )
      ).code,
    ).toBe('DeleteConflict.Policy.Version.Default');
    await ram.deletePolicy(new $Ram.DeletePolicyRequest({ policyName: 'read-ram' }));
    expect(
      await sdkError(
        ram.getPolicy(new $Ram.GetPolicyRequest({ policyName: 'read-ram', policyType: 'Custom' })),
      ),
    ).toMatchObject({ code: 'EntityNotExist.Policy', statusCode: 404 });
  });

  it('serves the System policy catalogue with real documents', async () => {
    for (const name of [
      'AdministratorAccess',
      'AliyunRAMFullAccess',
      'AliyunRAMReadOnlyAccess',
      'AliyunCSReadOnlyAccess',
      'AliyunSTSAssumeRoleAccess',
      'AliyunOSSReadOnlyAccess',
    ]) {
      const res = await ram.getPolicy(
        new $Ram.GetPolicyRequest({ policyName: name, policyType: 'System' }),
      );
      const doc = JSON.parse(res.body?.policy?.policyDocument ?? '{}') as { Statement: unknown[] };
      expect(doc.Statement.length).toBeGreaterThan(0);
      expect(res.body?.policy?.policyType).toBe('System');
    }
  });

  it('enforces the per-role policy quota', async () => {
    await emulator.stop();
    emulator = await start({ quotas: { customPoliciesPerRole: 1 } });
    ram = clientsFor(emulator).ram;
    await createRole('q');
    for (const name of ['a', 'b']) {
      await ram.createPolicy(
        new $Ram.CreatePolicyRequest({ policyName: name, policyDocument: permission('ram:Get*') }),
      );
    }
    await ram.attachPolicyToRole(
      new $Ram.AttachPolicyToRoleRequest({ roleName: 'q', policyName: 'a', policyType: 'Custom' }),
    );
    expect(
      await sdkError(
        ram.attachPolicyToRole(
          new $Ram.AttachPolicyToRoleRequest({
            roleName: 'q',
            policyName: 'b',
            policyType: 'Custom',
          }),
        ),
      ),
    ).toMatchObject({ code: 'LimitExceeded.Role.Policy', statusCode: 409 });
  });
});

describe('RAM tags', () => {
  it('tags, lists and untags roles, and filters ListRoles by tag', async () => {
    await createRole('t1', { tag: [new $Ram.CreateRoleRequestTag({ key: 'owner', value: 'a' })] });
    await createRole('t2');
    await ram.tagResources(
      new $Ram.TagResourcesRequest({
        resourceType: 'role',
        resourceNames: ['t1', 't2'],
        tag: [new $Ram.TagResourcesRequestTag({ key: 'team', value: 'x' })],
      }),
    );
    const listed = await ram.listTagResources(
      new $Ram.ListTagResourcesRequest({ resourceType: 'role', resourceNames: ['t1'] }),
    );
    expect(listed.body?.tagResources?.map((t) => [t.resourceName, t.tagKey, t.tagValue])).toEqual([
      ['t1', 'owner', 'a'],
      ['t1', 'team', 'x'],
    ]);
    const filtered = await ram.listRoles(
      new $Ram.ListRolesRequest({
        tag: [new $Ram.ListRolesRequestTag({ key: 'owner', value: 'a' })],
      }),
    );
    expect(filtered.body?.roles?.role?.map((r) => r.roleName)).toEqual(['t1']);
    expect(filtered.body?.roles?.role?.[0]?.tags?.tag?.map((t) => t.tagKey)).toEqual([
      'owner',
      'team',
    ]);

    await ram.untagResources(
      new $Ram.UntagResourcesRequest({
        resourceType: 'role',
        resourceNames: ['t1'],
        tagKeys: ['owner'],
      }),
    );
    const adapter = new AlibabaRam(ram);
    expect(await adapter.listRoleTags('t1')).toEqual({ team: 'x' });
    expect(
      (
        await sdkError(
          ram.tagResources(
            new $Ram.TagResourcesRequest({
              resourceType: 'role',
              resourceNames: ['missing'],
              tag: [new $Ram.TagResourcesRequestTag({ key: 'k', value: 'v' })],
            }),
          ),
        )
      ).code,
    ).toBe('EntityNotExist.Role');
  });

  it('works through the project adapter (idempotent attach/detach/delete)', async () => {
    const adapter = new AlibabaRam(ram);
    const role = await adapter.createRole({
      name: 'via-port',
      trustPolicy: TRUST_ROOT,
      tags: { a: 'b' },
    });
    expect(role.arn).toBe('acs:ram::1234567890123456:role/via-port');
    expect(await adapter.getRole('VIA-PORT')).toMatchObject({
      name: 'via-port',
      trustPolicy: TRUST_ROOT,
    });
    const policy = { type: 'System' as const, name: 'AliyunRAMReadOnlyAccess' };
    await adapter.attachPolicy('via-port', policy);
    await adapter.attachPolicy('via-port', policy);
    expect(await adapter.listPoliciesForRole('via-port')).toEqual([policy]);
    await adapter.detachPolicy('via-port', policy);
    await adapter.detachPolicy('via-port', policy);
    expect(await adapter.listRoleTags('via-port')).toEqual({ a: 'b' });
    await adapter.deleteRole('via-port');
    await adapter.deleteRole('via-port');
    expect(await adapter.getRole('via-port')).toBeUndefined();
  });
});

import { start, type RunningEmulator } from '../src/index.ts';
import { AlibabaIms, AlibabaSts } from '../../../src/cloud/alibaba-sts-ims.ts';
import type { SdkClients } from '../../../src/cloud/sdk-clients.ts';
import { rrsaTrustPolicy, startIssuer, type TestIssuer } from './oidc-issuer.ts';
import { $Ims, $Ram, $Sts, clientsFor, permission, sdkError } from './support.ts';

let emulator: RunningEmulator;
let issuer: TestIssuer;
let clients: SdkClients;
const PROVIDER = 'ack-rrsa-c1';
const PROVIDER_ARN = `acs:ram::1234567890123456:oidc-provider/${PROVIDER}`;
const ROLE_ARN = 'acs:ram::1234567890123456:role/app-role';
const SUB = 'system:serviceaccount:ns1:app';

// RSA key generation (issuer, TLS) is slow on a loaded 2-CPU runner.
jest.setTimeout(20_000);
beforeAll(async () => {
  issuer = await startIssuer();
  emulator = await start({ issuerOverrides: { [issuer.issuer]: issuer.override } });
  clients = clientsFor(emulator);
});
afterAll(async () => {
  await emulator?.stop();
  await issuer?.close();
});

async function setUp(trust = rrsaTrustPolicy(PROVIDER_ARN, issuer.issuer, SUB)): Promise<void> {
  emulator.controls.reset();
  await clients.ims.createOIDCProvider(
    new $Ims.CreateOIDCProviderRequest({
      OIDCProviderName: PROVIDER,
      issuerUrl: issuer.issuer,
      clientIds: 'sts.aliyuncs.com,other-client',
      issuanceLimitTime: 12,
    }),
  );
  await clients.ram.createRole(
    new $Ram.CreateRoleRequest({ roleName: 'app-role', assumeRolePolicyDocument: trust }),
  );
}

interface Creds {
  accessKeyId?: string | undefined;
  accessKeySecret?: string | undefined;
  securityToken?: string | undefined;
}

function sessionClients(creds: Creds | undefined): SdkClients {
  return clientsFor(emulator, {
    accessKeyId: creds?.accessKeyId ?? '',
    accessKeySecret: creds?.accessKeySecret ?? '',
    securityToken: creds?.securityToken ?? '',
  });
}

function assume(token: string, extra: Record<string, unknown> = {}) {
  return clients.sts.assumeRoleWithOIDC(
    new $Sts.AssumeRoleWithOIDCRequest({
      OIDCProviderArn: PROVIDER_ARN,
      roleArn: ROLE_ARN,
      OIDCToken: token,
      roleSessionName: 'test-session',
      ...extra,
    }),
  );
}

describe('IMS OIDC providers through @alicloud/ims20190815', () => {
  beforeEach(() => emulator.controls.reset());

  it('creates, reads, lists, updates and deletes a provider', async () => {
    const created = await clients.ims.createOIDCProvider(
      new $Ims.CreateOIDCProviderRequest({
        OIDCProviderName: PROVIDER,
        issuerUrl: issuer.issuer,
        clientIds: 'sts.aliyuncs.com',
        fingerprints: 'a'.repeat(40),
        description: 'cluster c1',
      }),
    );
    expect(created.body?.OIDCProvider).toMatchObject({
      arn: PROVIDER_ARN,
      clientIds: 'sts.aliyuncs.com',
      fingerprints: 'a'.repeat(40),
      issuerUrl: issuer.issuer,
    });
    expect(created.body?.OIDCProvider?.gmtCreate).toMatch(/^\d{13}$/);
    expect(
      (
        await sdkError(
          clients.ims.createOIDCProvider(
            new $Ims.CreateOIDCProviderRequest({
              OIDCProviderName: 'p2',
              issuerUrl: 'http://insecure',
            }),
          ),
        )
      ).code,
    ).toBe('InvalidParameter.IssuerUrl');

    await clients.ims.addClientIdToOIDCProvider(
      new $Ims.AddClientIdToOIDCProviderRequest({ OIDCProviderName: PROVIDER, clientId: 'c2' }),
    );
    await clients.ims.addFingerprintToOIDCProvider(
      new $Ims.AddFingerprintToOIDCProviderRequest({
        OIDCProviderName: PROVIDER,
        fingerprint: 'b'.repeat(40),
      }),
    );
    await clients.ims.removeFingerprintFromOIDCProvider(
      new $Ims.RemoveFingerprintFromOIDCProviderRequest({
        OIDCProviderName: PROVIDER,
        fingerprint: 'a'.repeat(40),
      }),
    );
    const port = new AlibabaIms(clients.ims);
    expect(await port.getOidcProvider(PROVIDER)).toEqual({
      name: PROVIDER,
      arn: PROVIDER_ARN,
      issuerUrl: issuer.issuer,
      clientIds: ['sts.aliyuncs.com', 'c2'],
      fingerprints: ['b'.repeat(40)],
    });
    const updated = await clients.ims.updateOIDCProvider(
      new $Ims.UpdateOIDCProviderRequest({
        OIDCProviderName: PROVIDER,
        clientIds: 'x,y',
        newDescription: 'n',
      }),
    );
    expect(updated.body?.OIDCProvider).toMatchObject({
      clientIds: 'x,y',
      description: 'n',
      fingerprints: 'b'.repeat(40),
    });
    const listed = await clients.ims.listOIDCProviders(new $Ims.ListOIDCProvidersRequest({}));
    expect(listed.body?.OIDCProviders?.OIDCProvider?.map((p) => p.OIDCProviderName)).toEqual([
      PROVIDER,
    ]);
    await clients.ims.deleteOIDCProvider(
      new $Ims.DeleteOIDCProviderRequest({ OIDCProviderName: PROVIDER }),
    );
    expect(await port.getOidcProvider(PROVIDER)).toBeUndefined();
  });
});

describe('AssumeRoleWithOIDC through @alicloud/sts20150401 (anonymous)', () => {
  it('issues credentials for a token the trust policy admits, usable for signed calls', async () => {
    await setUp();
    const token = await issuer.sign();
    const res = await assume(token, { durationSeconds: 3600 });
    const body = res.body;
    const credentials: Creds & { expiration?: string | undefined } = body?.credentials ?? {};
    expect(credentials.accessKeyId).toMatch(/^STS\./);
    expect(credentials.expiration).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const lifetime = Date.parse(credentials.expiration ?? '') - Date.now();
    expect(lifetime).toBeGreaterThan(3590_000);
    expect(lifetime).toBeLessThanOrEqual(3600_000);
    expect(body?.assumedRoleUser?.arn).toBe(`${ROLE_ARN}/test-session`);
    expect(body?.OIDCTokenInfo).toMatchObject({
      subject: SUB,
      issuer: issuer.issuer,
      clientIds: 'sts.aliyuncs.com',
      verificationInfo: 'Success',
    });

    const session = sessionClients(body?.credentials);
    expect(await new AlibabaSts(session.sts).getCallerIdentity()).toEqual({
      accountId: '1234567890123456',
      arn: 'acs:ram::1234567890123456:assumed-role/app-role/test-session',
      identityType: 'AssumedRoleUser',
    });
    const recorded = emulator.controls.requests({ action: 'AssumeRoleWithOIDC' });
    expect(recorded).toHaveLength(1);
    expect(recorded[0]?.params.OIDCToken).toMatch(/^<redacted/);
  });

  it('admits a StringLike sub pattern and array conditions', async () => {
    await setUp(
      rrsaTrustPolicy(PROVIDER_ARN, issuer.issuer, 'system:serviceaccount:ns1:*', 'StringLike'),
    );
    await expect(
      assume(await issuer.sign({ sub: 'system:serviceaccount:ns1:other' })),
    ).resolves.toBeDefined();
    expect(
      (await sdkError(assume(await issuer.sign({ sub: 'system:serviceaccount:ns2:app' })))).code,
    ).toBe('AuthenticationFail.NoPermission');
  });

  it('answers each failure with its AuthenticationFail code', async () => {
    await setUp();
    const cases: [string, () => Promise<unknown>, string, number, string?][] = [
      [
        'expired',
        async () => assume(await issuer.sign({}, { expiresIn: '-1m' })),
        'AuthenticationFail.OIDCToken.Expired',
        401,
        'This JsonWebToken is expired.',
      ],
      [
        'bad signature',
        async () => assume(await issuer.sign({}, { key: issuer.foreignKey })),
        'AuthenticationFail.OIDCToken.InvalidSignature',
        401,
        'OIDC token validate failed: invalid signature.',
      ],
      [
        'wrong audience',
        async () => assume(await issuer.sign({ aud: 'someone-else' })),
        'AuthenticationFail.OIDCToken.AudienceNotMatch',
        401,
        'Invalid audience.',
      ],
      [
        'issuer mismatch',
        async () => assume(await issuer.sign({ iss: 'https://other.example.test' })),
        'AuthenticationFail.OIDCToken.IssuerNotMatch',
        401,
      ],
      [
        'sub not matching',
        async () => assume(await issuer.sign({ sub: 'system:serviceaccount:ns1:intruder' })),
        'AuthenticationFail.NoPermission',
        401,
        'There is no permission',
      ],
      [
        'role missing',
        async () =>
          assume(await issuer.sign(), { roleArn: 'acs:ram::1234567890123456:role/missing' }),
        'EntityNotExist.Role',
        404,
      ],
      [
        'provider missing',
        async () =>
          assume(await issuer.sign(), {
            OIDCProviderArn: 'acs:ram::1234567890123456:oidc-provider/missing',
          }),
        'AuthenticationFail.NoPermission',
        401,
        'No such OIDC Provider registered.',
      ],
      [
        'not a JWT',
        () => assume('abc.def'),
        'AuthenticationFail.OIDCToken.Invalid',
        401,
        "The number of Jwt field should be divided into 3 parts with '.' .",
      ],
      [
        'too long a session',
        async () => assume(await issuer.sign(), { durationSeconds: 7200 }),
        'InvalidParameter.DurationSeconds',
        400,
      ],
    ];
    for (const [what, call, code, status, message] of cases) {
      const error = await sdkError(call());
      expect({ what, code: error.code, status: error.statusCode }).toEqual({ what, code, status });
      if (message) expect(error.data.Message).toBe(message);
    }
    expect(emulator.controls.dump().sessions).toHaveLength(0);
  });
});

describe('authorisation of assumed-role callers', () => {
  it('allows what the attached policies allow and answers NoPermission with AccessDeniedDetail otherwise', async () => {
    await setUp();
    await clients.ram.createPolicy(
      new $Ram.CreatePolicyRequest({
        policyName: 'list-roles',
        policyDocument: permission('ram:ListRoles'),
      }),
    );
    await clients.ram.attachPolicyToRole(
      new $Ram.AttachPolicyToRoleRequest({
        roleName: 'app-role',
        policyName: 'list-roles',
        policyType: 'Custom',
      }),
    );
    const creds = (await assume(await issuer.sign())).body?.credentials;
    const session = sessionClients(creds);
    const listed = await session.ram.listRoles(new $Ram.ListRolesRequest({}));
    expect(listed.body?.roles?.role?.map((r) => r.roleName)).toEqual(['app-role']);
    const denied = await sdkError(
      session.ram.getRole(new $Ram.GetRoleRequest({ roleName: 'app-role' })),
    );
    expect(denied).toMatchObject({ name: 'ClientError', code: 'NoPermission', statusCode: 403 });
    expect(denied.data.Message).toBe('You are not authorized to do this action.');
    expect(denied.accessDeniedDetail).toMatchObject({
      AuthAction: 'ram:GetRole',
      NoPermissionType: 'ImplicitDeny',
      AuthPrincipalOwnerId: '1234567890123456',
    });

    emulator.controls.detachPolicy('app-role', 'list-roles');
    expect((await sdkError(session.ram.listRoles(new $Ram.ListRolesRequest({})))).code).toBe(
      'NoPermission',
    );
    emulator.controls.attachPolicy('app-role', 'AliyunRAMReadOnlyAccess', 'System');
    await expect(
      session.ram.getRole(new $Ram.GetRoleRequest({ roleName: 'app-role' })),
    ).resolves.toBeDefined();
  });
});

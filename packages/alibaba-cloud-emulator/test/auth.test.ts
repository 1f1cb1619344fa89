import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import RamModule from '@alicloud/ram20150501';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import { start, type RunningEmulator } from '../src/index.ts';
import { cjsDefault } from '../../../src/util/cjs-default.ts';
import { rrsaTrustPolicy, startIssuer, type TestIssuer } from './oidc-issuer.ts';
import { $Ims, $Ram, $Sts, clientsFor, permission, sdkError, TRUST_ROOT } from './support.ts';

const Ram = cjsDefault<typeof RamModule.default>(RamModule);
let emulator: RunningEmulator;
let proxy: Server;
let proxyEndpoint: string;
/** Rewrites each request passing through the proxy (a man in the middle). */
let tamper: (url: string, headers: Record<string, string>) => string = (url) => url;

// RSA key generation (issuer, TLS) is slow on a loaded 2-CPU runner.
jest.setTimeout(20_000);
beforeAll(async () => {
  emulator = await start({
    users: [
      {
        name: 'alice',
        accessKeyId: 'LTAIalice0000000001',
        accessKeySecret: 'alice-secret',
        policies: [{ type: 'System', name: 'AliyunRAMReadOnlyAccess' }],
      },
    ],
  });
  proxy = createServer((req, res) => {
    const headers = { ...req.headers } as Record<string, string>;
    const path = tamper(req.url ?? '/', headers);
    const upstream = request(
      { host: '127.0.0.1', port: emulator.port, method: req.method, path, headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 500, answer.headers);
        answer.pipe(res);
      },
    );
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  proxyEndpoint = `127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});
afterAll(async () => {
  proxy.closeAllConnections();
  await new Promise((resolve) => proxy.close(resolve));
  await emulator?.stop();
});
beforeEach(() => {
  emulator.controls.reset();
  tamper = (url) => url;
});

function ramVia(endpoint: string, accessKeySecret = emulator.rootKey.accessKeySecret, extra = {}) {
  return new Ram(
    new $OpenApiUtil.Config({
      accessKeyId: emulator.rootKey.accessKeyId,
      accessKeySecret,
      endpoint,
      protocol: 'http',
      ...extra,
    }),
  );
}

const getRole = (ram: InstanceType<typeof Ram>, roleName = 'victim') =>
  ram.getRole(new $Ram.GetRoleRequest({ roleName }));

describe('request authentication', () => {
  beforeEach(async () => {
    await clientsFor(emulator).ram.createRole(
      new $Ram.CreateRoleRequest({ roleName: 'victim', assumeRolePolicyDocument: TRUST_ROOT }),
    );
  });

  it('accepts V3 (ACS3-HMAC-SHA256) and V1 (HMAC-SHA1) signatures from the SDK', async () => {
    expect((await getRole(ramVia(emulator.endpoint))).body?.role?.roleName).toBe('victim');
    const v1 = ramVia(emulator.endpoint, undefined, { signatureAlgorithm: 'v2' });
    expect((await getRole(v1)).body?.role?.roleName).toBe('victim');
    const [v3Entry, v1Entry] = emulator.controls.requests({ action: 'GetRole' });
    expect(v3Entry?.params.Action).toBeUndefined();
    expect(v1Entry?.params.SignatureMethod).toBe('HMAC-SHA1');
  });

  it('rejects a request altered in flight with SignatureDoesNotMatch', async () => {
    const viaProxy = ramVia(proxyEndpoint);
    expect((await getRole(viaProxy)).body?.role?.roleName).toBe('victim');

    tamper = (url) => url.replace('RoleName=victim', 'RoleName=Victim');
    const query = await sdkError(getRole(viaProxy));
    expect(query).toMatchObject({ code: 'SignatureDoesNotMatch', statusCode: 400 });
    expect(query.data.Message).toBe('Specified signature does not match our calculation.');

    tamper = (url, headers) => {
      headers['x-acs-action'] = 'DeleteRole';
      return url;
    };
    expect((await sdkError(getRole(viaProxy))).code).toBe('SignatureDoesNotMatch');
    tamper = (url) => url;
    expect((await getRole(viaProxy)).body?.role?.roleName).toBe('victim');
  });

  it('rejects a wrong secret and an unknown AccessKeyId', async () => {
    expect(await sdkError(getRole(ramVia(emulator.endpoint, 'wrong-secret')))).toMatchObject({
      code: 'SignatureDoesNotMatch',
      statusCode: 400,
    });
    const v1 = ramVia(emulator.endpoint, 'wrong-secret', { signatureAlgorithm: 'v2' });
    expect((await sdkError(getRole(v1))).code).toBe('SignatureDoesNotMatch');
    const unknown = clientsFor(emulator, { accessKeyId: 'LTAInobody', accessKeySecret: 'x' });
    expect(
      await sdkError(unknown.ram.getRole(new $Ram.GetRoleRequest({ roleName: 'victim' }))),
    ).toMatchObject({ code: 'InvalidAccessKeyId.NotFound' });
  });

  it('identifies account, RAM user and assumed-role callers; authorises the user by its policies', async () => {
    const root = await clientsFor(emulator).sts.getCallerIdentity();
    expect(root.body).toMatchObject({
      identityType: 'Account',
      arn: 'acs:ram::1234567890123456:root',
    });
    const alice = clientsFor(emulator, {
      accessKeyId: 'LTAIalice0000000001',
      accessKeySecret: 'alice-secret',
    });
    const me = await alice.sts.getCallerIdentity();
    expect(me.body).toMatchObject({
      identityType: 'RAMUser',
      arn: 'acs:ram::1234567890123456:user/alice',
    });
    expect(me.body?.userId).toMatch(/^\d+$/);
    expect((await getRole(alice.ram)).body?.role?.roleName).toBe('victim');
    const denied = await sdkError(
      alice.ram.deleteRole(new $Ram.DeleteRoleRequest({ roleName: 'victim' })),
    );
    expect(denied).toMatchObject({ code: 'NoPermission', statusCode: 403 });
    expect(denied.accessDeniedDetail).toMatchObject({
      AuthAction: 'ram:DeleteRole',
      AuthPrincipalType: 'SubUser',
      AuthPrincipalDisplayName: 'alice',
    });
  });
});

describe('STS security tokens', () => {
  let issuer: TestIssuer;
  beforeAll(async () => {
    issuer = await startIssuer();
  });
  afterAll(() => issuer?.close());

  it('accepts a token it issued, rejects a mismatched one, and rejects it once expired', async () => {
    emulator.controls.setIssuerOverride(issuer.issuer, issuer.override);
    const root = clientsFor(emulator);
    await root.ims.createOIDCProvider(
      new $Ims.CreateOIDCProviderRequest({
        OIDCProviderName: 'p',
        issuerUrl: issuer.issuer,
        clientIds: 'sts.aliyuncs.com',
      }),
    );
    const providerArn = 'acs:ram::1234567890123456:oidc-provider/p';
    const trust = rrsaTrustPolicy(providerArn, issuer.issuer, 'system:serviceaccount:ns1:app');
    await root.ram.createRole(
      new $Ram.CreateRoleRequest({ roleName: 'r', assumeRolePolicyDocument: trust }),
    );
    await root.ram.createPolicy(
      new $Ram.CreatePolicyRequest({ policyName: 'all', policyDocument: permission('ram:*') }),
    );
    emulator.controls.attachPolicy('r', 'all');
    const assumed = await root.sts.assumeRoleWithOIDC(
      new $Sts.AssumeRoleWithOIDCRequest({
        OIDCProviderArn: providerArn,
        roleArn: 'acs:ram::1234567890123456:role/r',
        OIDCToken: await issuer.sign(),
        roleSessionName: 's1',
        durationSeconds: 900,
      }),
    );
    const creds = assumed.body?.credentials;
    const key = {
      accessKeyId: creds?.accessKeyId ?? '',
      accessKeySecret: creds?.accessKeySecret ?? '',
      securityToken: creds?.securityToken ?? '',
    };
    const session = clientsFor(emulator, key);
    await expect(session.ram.listRoles(new $Ram.ListRolesRequest({}))).resolves.toBeDefined();

    const forged = clientsFor(emulator, { ...key, securityToken: `${key.securityToken}x` });
    expect((await sdkError(forged.ram.listRoles(new $Ram.ListRolesRequest({})))).code).toBe(
      'InvalidSecurityToken.MismatchWithAccessKey',
    );
    const noToken = clientsFor(emulator, {
      accessKeyId: key.accessKeyId,
      accessKeySecret: key.accessKeySecret,
    });
    expect((await sdkError(noToken.ram.listRoles(new $Ram.ListRolesRequest({})))).code).toBe(
      'MissingSecurityToken',
    );

    emulator.controls.advanceTime(901);
    const expired = await sdkError(session.ram.listRoles(new $Ram.ListRolesRequest({})));
    expect(expired).toMatchObject({ code: 'InvalidSecurityToken.Expired', statusCode: 400 });
    expect(expired.data.Message).toBe('Specified SecurityToken is expired.');
  });
});

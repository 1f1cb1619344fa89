import { createHash, createHmac, randomBytes } from 'node:crypto';
import { start, type RunningEmulator } from '../src/index.ts';
import type { SdkClients } from '../../../src/cloud/sdk-clients.ts';
import { rrsaTrustPolicy, startIssuer, type TestIssuer } from './oidc-issuer.ts';
import { $Ims, $Ram, $Sts, clientsFor, sdkError } from './support.ts';

/** Several accounts: own keys, RAM and IMS each; AssumeRole across them judged by trust policy. */

const HOME = '1234567890123456';
const TEAM = '2222222222222222';
const OTHER = '3333333333333333';
const TEAM_KEY = { accessKeyId: 'LTAIteamRoot000001', accessKeySecret: 'team-root-secret' };
const OTHER_KEY = { accessKeyId: 'LTAIotherRoot00001', accessKeySecret: 'other-root-secret' };

let emulator: RunningEmulator;
let issuer: TestIssuer;
let home: SdkClients;
let team: SdkClients;
let other: SdkClients;

jest.setTimeout(20_000);
beforeAll(async () => {
  issuer = await startIssuer();
  emulator = await start({
    accounts: [
      { accountId: TEAM, rootKey: TEAM_KEY },
      { accountId: OTHER, rootKey: OTHER_KEY },
    ],
    issuerOverrides: { [issuer.issuer]: issuer.override },
  });
  home = clientsFor(emulator);
  team = clientsFor(emulator, TEAM_KEY);
  other = clientsFor(emulator, OTHER_KEY);
});
afterAll(async () => {
  await emulator?.stop();
  await issuer?.close();
});
beforeEach(() => emulator.controls.reset());

function trustRam(principal: string | string[], condition?: Record<string, unknown>): string {
  return JSON.stringify({
    Version: '1',
    Statement: [
      {
        Action: 'sts:AssumeRole',
        Effect: 'Allow',
        Principal: { RAM: Array.isArray(principal) ? principal : [principal] },
        ...(condition ? { Condition: condition } : {}),
      },
    ],
  });
}

async function createRole(clients: SdkClients, roleName: string, trust: string): Promise<void> {
  await clients.ram.createRole(
    new $Ram.CreateRoleRequest({ roleName, assumeRolePolicyDocument: trust }),
  );
}

function assumeRole(clients: SdkClients, roleArn: string, externalId?: string) {
  return clients.sts.assumeRole(
    new $Sts.AssumeRoleRequest({
      roleArn,
      roleSessionName: 'rrsa-operator',
      ...(externalId !== undefined ? { externalId } : {}),
    }),
  );
}

type Creds = { accessKeyId?: string; accessKeySecret?: string; securityToken?: string } | undefined;

function sessionClients(creds: Creds): SdkClients {
  return clientsFor(emulator, {
    accessKeyId: creds?.accessKeyId ?? '',
    accessKeySecret: creds?.accessKeySecret ?? '',
    securityToken: creds?.securityToken ?? '',
  });
}

describe('separate accounts', () => {
  it('gives every account its own root key, roles and OIDC providers', async () => {
    expect(emulator.accounts.map((a) => a.accountId)).toEqual([HOME, TEAM, OTHER]);
    await createRole(team, 'app', trustRam(`acs:ram::${TEAM}:root`));
    const got = await team.ram.getRole(new $Ram.GetRoleRequest({ roleName: 'app' }));
    expect(got.body?.role?.arn).toBe(`acs:ram::${TEAM}:role/app`);
    const missing = await sdkError(home.ram.getRole(new $Ram.GetRoleRequest({ roleName: 'app' })));
    expect(missing.code).toBe('EntityNotExist.Role');
    // One role name in two accounts: two roles.
    await createRole(home, 'app', trustRam(`acs:ram::${HOME}:root`));
    expect(emulator.controls.dump(HOME).roles.map((r) => r.arn)).toEqual([
      `acs:ram::${HOME}:role/app`,
    ]);
    await team.ims.createOIDCProvider(
      new $Ims.CreateOIDCProviderRequest({
        OIDCProviderName: 'ack-rrsa-c1',
        issuerUrl: issuer.issuer,
        clientIds: 'sts.aliyuncs.com',
      }),
    );
    const provider = await team.ims.getOIDCProvider(
      new $Ims.GetOIDCProviderRequest({ OIDCProviderName: 'ack-rrsa-c1' }),
    );
    expect(provider.body?.OIDCProvider?.arn).toBe(`acs:ram::${TEAM}:oidc-provider/ack-rrsa-c1`);
    const absent = await sdkError(
      home.ims.getOIDCProvider(
        new $Ims.GetOIDCProviderRequest({ OIDCProviderName: 'ack-rrsa-c1' }),
      ),
    );
    expect(absent.statusCode).toBe(404);
    const identity = await team.sts.getCallerIdentity();
    expect(identity.body).toMatchObject({ accountId: TEAM, arn: `acs:ram::${TEAM}:root` });
  });
});

describe('AssumeRole across accounts', () => {
  it('lets the account a trust policy names assume the role, and its keys act in that account', async () => {
    await createRole(team, 'rrsa-manager', trustRam(`acs:ram::${HOME}:root`));
    emulator.controls.attachPolicy('rrsa-manager', 'AliyunRAMFullAccess', 'System', TEAM);
    const res = await assumeRole(home, `acs:ram::${TEAM}:role/rrsa-manager`);
    expect(res.body?.assumedRoleUser?.arn).toBe(`acs:ram::${TEAM}:role/rrsa-manager/rrsa-operator`);
    expect(res.body?.credentials?.accessKeyId).toMatch(/^STS\./);
    expect(res.body?.credentials?.expiration).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const session = sessionClients(res.body?.credentials);
    const identity = await session.sts.getCallerIdentity();
    expect(identity.body).toMatchObject({
      accountId: TEAM,
      identityType: 'AssumedRoleUser',
      arn: `acs:ram::${TEAM}:assumed-role/rrsa-manager/rrsa-operator`,
    });
    await createRole(session, 'made-by-session', trustRam(`acs:ram::${TEAM}:root`));
    expect(emulator.controls.dump(TEAM).roles.map((r) => r.roleName)).toContain('made-by-session');
    expect(emulator.controls.dump(HOME).roles).toEqual([]);
  });

  it('refuses an account the trust policy does not name, with NoPermission', async () => {
    await createRole(team, 'rrsa-manager', trustRam(`acs:ram::${HOME}:root`));
    const refused = await sdkError(assumeRole(other, `acs:ram::${TEAM}:role/rrsa-manager`));
    expect(refused).toMatchObject({ name: 'ClientError', code: 'NoPermission', statusCode: 403 });
    expect(refused.message).toContain('No permission perform sts:AssumeRole on this Role');
    expect(refused.data).toMatchObject({ HostId: 'sts.aliyuncs.com' });
    const missing = await sdkError(assumeRole(home, `acs:ram::${TEAM}:role/absent`));
    expect(missing).toMatchObject({ code: 'EntityNotExist.Role', statusCode: 404 });
    const noAccount = await sdkError(assumeRole(home, `acs:ram::9999999999999999:role/x`));
    expect(noAccount.code).toBe('EntityNotExist.Role');
  });

  it('evaluates an sts:ExternalId condition', async () => {
    const condition = { StringEquals: { 'sts:ExternalId': 'abc-123' } };
    await createRole(team, 'rrsa-manager', trustRam(`acs:ram::${HOME}:root`, condition));
    const arn = `acs:ram::${TEAM}:role/rrsa-manager`;
    expect((await sdkError(assumeRole(home, arn))).code).toBe('NoPermission');
    expect((await sdkError(assumeRole(home, arn, 'wrong'))).code).toBe('NoPermission');
    expect((await assumeRole(home, arn, 'abc-123')).body?.credentials?.accessKeyId).toBeTruthy();
  });

  it('trusts a named role or RAM user of the calling account, and only with sts:AssumeRole granted', async () => {
    await createRole(home, 'operator', trustRam(`acs:ram::${HOME}:root`));
    await createRole(
      team,
      'rrsa-manager',
      trustRam([`acs:ram::${HOME}:role/operator`, `acs:ram::${HOME}:user/bob`]),
    );
    const target = `acs:ram::${TEAM}:role/rrsa-manager`;
    // The account root itself is not named: refused.
    expect((await sdkError(assumeRole(home, target))).code).toBe('NoPermission');
    const operator = await assumeRole(home, `acs:ram::${HOME}:role/operator`);
    const asOperator = sessionClients(operator.body?.credentials);
    // The calling identity needs sts:AssumeRole on the target (identity-based policy) as well.
    const ungranted = await sdkError(assumeRole(asOperator, target));
    expect(ungranted).toMatchObject({ code: 'NoPermission', statusCode: 403 });
    emulator.controls.attachPolicy('operator', 'AliyunSTSAssumeRoleAccess', 'System', HOME);
    const chained = await assumeRole(asOperator, target);
    expect(chained.body?.assumedRoleUser?.arn).toContain(`acs:ram::${TEAM}:role/rrsa-manager/`);
    emulator.controls.addUser({
      name: 'bob',
      accessKeyId: 'LTAIbob00000000001',
      accessKeySecret: 'bob-secret',
      policies: [{ type: 'System', name: 'AliyunSTSAssumeRoleAccess' }],
    });
    const bob = clientsFor(emulator, {
      accessKeyId: 'LTAIbob00000000001',
      accessKeySecret: 'bob-secret',
    });
    expect((await assumeRole(bob, target)).body?.credentials?.accessKeyId).toBeTruthy();
  });

  it('chains from an AssumeRoleWithOIDC session into another account', async () => {
    const providerArn = `acs:ram::${HOME}:oidc-provider/ack-rrsa-c1`;
    await home.ims.createOIDCProvider(
      new $Ims.CreateOIDCProviderRequest({
        OIDCProviderName: 'ack-rrsa-c1',
        issuerUrl: issuer.issuer,
        clientIds: 'sts.aliyuncs.com',
      }),
    );
    const sub = 'system:serviceaccount:rrsa-system:rrsa-operator';
    await createRole(home, 'operator', rrsaTrustPolicy(providerArn, issuer.issuer, sub));
    emulator.controls.attachPolicy('operator', 'AliyunSTSAssumeRoleAccess', 'System', HOME);
    await createRole(team, 'rrsa-manager', trustRam(`acs:ram::${HOME}:role/operator`));
    const oidc = await home.sts.assumeRoleWithOIDC(
      new $Sts.AssumeRoleWithOIDCRequest({
        OIDCProviderArn: providerArn,
        roleArn: `acs:ram::${HOME}:role/operator`,
        OIDCToken: await issuer.sign({ sub }),
        roleSessionName: 'operator',
      }),
    );
    const chained = await assumeRole(
      sessionClients(oidc.body?.credentials),
      `acs:ram::${TEAM}:role/rrsa-manager`,
    );
    const identity = await sessionClients(chained.body?.credentials).sts.getCallerIdentity();
    expect(identity.body?.accountId).toBe(TEAM);
  });

  it('serves AssumeRoleWithOIDC from the account the provider ARN names', async () => {
    const providerArn = `acs:ram::${TEAM}:oidc-provider/ack-rrsa-c1`;
    await team.ims.createOIDCProvider(
      new $Ims.CreateOIDCProviderRequest({
        OIDCProviderName: 'ack-rrsa-c1',
        issuerUrl: issuer.issuer,
        clientIds: 'sts.aliyuncs.com',
      }),
    );
    const sub = 'system:serviceaccount:ns1:app';
    await createRole(team, 'app', rrsaTrustPolicy(providerArn, issuer.issuer, sub));
    const request = (roleArn: string) =>
      home.sts.assumeRoleWithOIDC(
        new $Sts.AssumeRoleWithOIDCRequest({
          OIDCProviderArn: providerArn,
          roleArn,
          OIDCToken: '',
          roleSessionName: 'app',
        }),
      );
    const token = await issuer.sign({ sub });
    const ok = await home.sts.assumeRoleWithOIDC(
      new $Sts.AssumeRoleWithOIDCRequest({
        OIDCProviderArn: providerArn,
        roleArn: `acs:ram::${TEAM}:role/app`,
        OIDCToken: token,
        roleSessionName: 'app',
      }),
    );
    expect(ok.body?.assumedRoleUser?.arn).toBe(`acs:ram::${TEAM}:role/app/app`);
    // The provider of one account does not vouch for another account's role.
    await createRole(home, 'app', rrsaTrustPolicy(providerArn, issuer.issuer, sub));
    const crossed = await sdkError(
      home.sts.assumeRoleWithOIDC(
        new $Sts.AssumeRoleWithOIDCRequest({
          OIDCProviderArn: providerArn,
          roleArn: `acs:ram::${HOME}:role/app`,
          OIDCToken: token,
          roleSessionName: 'app',
        }),
      ),
    );
    expect(crossed.code).toBe('EntityNotExist.Role');
    expect((await sdkError(request(`acs:ram::${TEAM}:role/app`))).code).toBe(
      'AuthenticationFail.OIDCToken.Invalid',
    );
  });
});

/** Signs a V3 request by the reference's algorithm (§2.4), with the headers the caller picks. */
function signV3(
  query: Record<string, string>,
  headers: Record<string, string>,
  signed: string[],
  secret: string,
): string {
  const enc = (s: string): string =>
    encodeURIComponent(s).replace(
      /[!'()*]/g,
      (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
    );
  const canonicalQuery = Object.keys(query)
    .sort()
    .map((k) => `${k}=${enc(query[k] ?? '')}`)
    .join('&');
  const names = [...signed].sort();
  const canonicalHeaders = names.map((h) => `${h}:${(headers[h] ?? '').trim()}\n`).join('');
  const canonical = [
    'POST',
    '/',
    canonicalQuery,
    canonicalHeaders,
    names.join(';'),
    createHash('sha256').update('').digest('hex'),
  ].join('\n');
  const toSign = `ACS3-HMAC-SHA256\n${createHash('sha256').update(canonical).digest('hex')}`;
  return createHmac('sha256', secret).update(toSign).digest('hex');
}

describe('ACS3 signatures', () => {
  it('accepts SignedHeaders without host and without a nonce (ack-ram-tool credential-plugin)', async () => {
    const headers: Record<string, string> = {
      'x-acs-action': 'GetCallerIdentity',
      'x-acs-version': '2015-04-01',
      'x-acs-date': new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      'x-acs-content-sha256': createHash('sha256').update('').digest('hex'),
    };
    const signed = Object.keys(headers);
    const signature = signV3({}, headers, signed, TEAM_KEY.accessKeySecret);
    const response = await fetch(`${emulator.url}/`, {
      method: 'POST',
      headers: {
        ...headers,
        authorization: `ACS3-HMAC-SHA256 Credential=${TEAM_KEY.accessKeyId},SignedHeaders=${signed.sort().join(';')},Signature=${signature}`,
      },
    });
    const body = (await response.json()) as Record<string, unknown>;
    expect(response.status).toBe(200);
    expect(body).toMatchObject({ AccountId: TEAM, IdentityType: 'Account' });
    // Still verified: a wrong secret is refused.
    const forged = signV3({}, headers, signed, 'not-the-secret');
    const refused = await fetch(`${emulator.url}/`, {
      method: 'POST',
      headers: {
        ...headers,
        authorization: `ACS3-HMAC-SHA256 Credential=${TEAM_KEY.accessKeyId},SignedHeaders=${signed.sort().join(';')},Signature=${forged}`,
      },
    });
    expect(((await refused.json()) as { Code: string }).Code).toBe('SignatureDoesNotMatch');
  });
});

describe('request ids', () => {
  async function firstRequestId(seed?: string): Promise<string | undefined> {
    const run = await start(seed === undefined ? {} : { seed });
    try {
      return (await clientsFor(run).sts.getCallerIdentity()).body?.requestId;
    } finally {
      await run.stop();
    }
  }

  it('differ between runs unless a seed is given', async () => {
    const [a, b] = [await firstRequestId(), await firstRequestId()];
    expect(a).toMatch(/^[0-9A-F-]{36}$/);
    expect(a).not.toBe(b);
    const seed = randomBytes(4).toString('hex');
    expect(await firstRequestId(seed)).toBe(await firstRequestId(seed));
  });
});

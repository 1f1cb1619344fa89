import type { AccountMapping } from '../api/account-mapping.ts';
import { ConditionType, type PodIdentityBinding } from '../api/types.ts';
import { AccountClients } from '../cloud/account-clients.ts';
import type {
  AssumeRoleInput,
  CreateOidcProviderInput,
  ImsPort,
  OidcProvider,
  SessionCredentials,
  StsPort,
} from '../cloud/ports.ts';
import { DEFAULT_GUARDRAILS } from '../identity/guardrails.ts';
import {
  FakeBindingStore,
  FakeRam,
  FakeServiceAccountStore,
  RecordingEvents,
  bindingFixture,
  cloudError,
} from '../../test/support/fakes.ts';
import { AccountRouter } from './account-router.ts';
import { TAG_ACCOUNT } from './ownership.ts';
import { ANNOTATION_OIDC_PROVIDER_ARN, ANNOTATION_ROLE_ARN } from './service-account.ts';
import type { ClusterIdentity } from './types.ts';

const HOME = '1234567890123456';
const TEAM = '2222222222222222';
const OTHER = '3333333333333333';
const cluster: ClusterIdentity = {
  clusterId: 'c1',
  accountId: HOME,
  oidcProviderArn: `acs:ram::${HOME}:oidc-provider/ack-rrsa-c1`,
  issuerUrl: 'https://issuer.example',
  roleNamePrefix: 'rrsa-',
};

class AccountRam extends FakeRam {
  override readonly accountId: string;
  constructor(accountId: string) {
    super();
    this.accountId = accountId;
  }
}

class FakeIms implements ImsPort {
  readonly providers = new Map<string, OidcProvider>();
  readonly created: CreateOidcProviderInput[] = [];
  reads = 0;
  readonly accountId: string;
  constructor(accountId: string) {
    this.accountId = accountId;
  }
  getOidcProvider(name: string): Promise<OidcProvider | undefined> {
    this.reads++;
    return Promise.resolve(this.providers.get(name));
  }
  createOidcProvider(input: CreateOidcProviderInput): Promise<OidcProvider> {
    this.created.push(input);
    const provider = {
      name: input.name,
      arn: `acs:ram::${this.accountId}:oidc-provider/${input.name}`,
      issuerUrl: input.issuerUrl,
      clientIds: input.clientIds,
      fingerprints: input.fingerprints,
    };
    this.providers.set(input.name, provider);
    return Promise.resolve(provider);
  }
}

class FakeSts implements StsPort {
  readonly assumed: AssumeRoleInput[] = [];
  refuse: string | undefined;
  readonly now: () => number;
  constructor(now: () => number) {
    this.now = now;
  }
  getCallerIdentity(): Promise<{ accountId: string; arn: string; identityType: string }> {
    return Promise.resolve({
      accountId: HOME,
      arn: `acs:ram::${HOME}:role/operator`,
      identityType: 'AssumedRoleUser',
    });
  }
  assumeRole(input: AssumeRoleInput): Promise<SessionCredentials> {
    this.assumed.push(input);
    if (this.refuse === input.roleArn) return Promise.reject(cloudError('Denied', 'NoPermission'));
    const n = this.assumed.length;
    return Promise.resolve({
      accessKeyId: `STS.${n}`,
      accessKeySecret: `secret-${n}`,
      securityToken: `token-${n}`,
      expiration: new Date(this.now() + input.durationSeconds * 1000),
    });
  }
}

function mapping(
  name: string,
  accountId: string,
  namespaces: string[],
  extra = {},
): AccountMapping {
  return {
    apiVersion: 'rrsa.dev/v1alpha1',
    kind: 'AccountMapping',
    metadata: { name },
    spec: { accountId, managementRoleName: 'rrsa-manager', namespaces, ...extra },
  };
}

function world() {
  let now = Date.parse('2026-06-01T00:00:00Z');
  const homeRam = new AccountRam(HOME);
  const rams = new Map([TEAM, OTHER].map((id) => [id, new AccountRam(id)]));
  const imses = new Map([TEAM, OTHER].map((id) => [id, new FakeIms(id)]));
  const sts = new FakeSts(() => now);
  const built: { accountId: string; accessKeyId: string }[] = [];
  const bindings = new FakeBindingStore();
  const serviceAccounts = new FakeServiceAccountStore();
  const events = new RecordingEvents();
  let mappings: AccountMapping[] = [mapping('team-a', TEAM, ['team-a'])];
  const router = new AccountRouter({
    home: {
      cluster,
      guardrails: DEFAULT_GUARDRAILS,
      ram: homeRam,
      bindings,
      serviceAccounts,
      events,
      now: () => new Date(now),
      resyncMs: () => 600_000,
    },
    mappings: () => mappings,
    namespaceLabels: () => Promise.resolve({}),
    accounts: new AccountClients({
      sts,
      now: () => now,
      build: (accountId, creds) => {
        built.push({ accountId, accessKeyId: creds.accessKeyId });
        return { ram: rams.get(accountId)!, ims: imses.get(accountId)! };
      },
    }),
    issuerFingerprint: () => Promise.resolve('a'.repeat(40)),
  });
  const put = (namespace: string): PodIdentityBinding => {
    serviceAccounts.accounts.set(`${namespace}/app-sa`, { annotations: {} });
    return bindings.put(bindingFixture({ namespace }));
  };
  const status = (namespace: string) => bindings.objects.get(`${namespace}/app`)?.status;
  const ready = (namespace: string) =>
    status(namespace)?.conditions?.find((c) => c.type === ConditionType.Ready);
  return {
    router,
    homeRam,
    team: rams.get(TEAM)!,
    teamIms: imses.get(TEAM)!,
    other: rams.get(OTHER)!,
    sts,
    built,
    bindings,
    serviceAccounts,
    events,
    put,
    status,
    ready,
    setMappings: (m: AccountMapping[]) => (mappings = m),
    advance: (ms: number) => (now += ms),
  };
}

describe('AccountRouter', () => {
  it('creates a mapped namespace’s role in the target account, trusting that account’s provider', async () => {
    const w = world();
    w.put('team-a');
    await w.router.reconcile('team-a', 'app');
    expect(w.ready('team-a')).toMatchObject({ status: 'True', reason: 'Bound' });
    expect(w.homeRam.writes()).toEqual([]);
    const [roleName] = [...w.team.roles.keys()];
    const role = w.team.roles.get(roleName ?? '')!;
    const trust = JSON.parse(role.role.trustPolicy) as {
      Statement: { Principal: { Federated: string[] } }[];
    };
    expect(trust.Statement[0]?.Principal.Federated).toEqual([
      `acs:ram::${TEAM}:oidc-provider/ack-rrsa-c1`,
    ]);
    expect(role.tags[TAG_ACCOUNT]).toBe(TEAM);
    expect(w.teamIms.created).toEqual([
      expect.objectContaining({
        name: 'ack-rrsa-c1',
        issuerUrl: cluster.issuerUrl,
        clientIds: ['sts.aliyuncs.com'],
        fingerprints: ['a'.repeat(40)],
      }),
    ]);
    expect(w.status('team-a')).toMatchObject({
      accountId: TEAM,
      roleArn: `acs:ram::${TEAM}:role/${roleName}`,
      oidcProviderArn: `acs:ram::${TEAM}:oidc-provider/ack-rrsa-c1`,
    });
    expect(w.serviceAccounts.annotations('team-a', 'app-sa')).toMatchObject({
      [ANNOTATION_ROLE_ARN]: `acs:ram::${TEAM}:role/${roleName}`,
      [ANNOTATION_OIDC_PROVIDER_ARN]: `acs:ram::${TEAM}:oidc-provider/ack-rrsa-c1`,
    });
    expect(w.sts.assumed).toEqual([
      {
        roleArn: `acs:ram::${TEAM}:role/rrsa-manager`,
        sessionName: 'rrsa-operator',
        externalId: undefined,
        durationSeconds: 3600,
      },
    ]);
  });

  it('refuses a binding over the guardrails before touching the target account at all', async () => {
    const w = world();
    w.serviceAccounts.accounts.set('team-a/app-sa', { annotations: {} });
    w.bindings.put(
      bindingFixture({
        namespace: 'team-a',
        role: { policies: [{ type: 'System', name: 'AdministratorAccess' }] },
      }),
    );
    await w.router.reconcile('team-a', 'app');
    expect(w.ready('team-a')).toMatchObject({ status: 'False', reason: 'GuardrailViolation' });
    // No session in the team account, no provider created there, no role anywhere.
    expect(w.sts.assumed).toEqual([]);
    expect(w.teamIms.created).toEqual([]);
    expect(w.team.roles.size).toBe(0);
    expect(w.team.writes()).toEqual([]);
    expect(w.homeRam.roles.size).toBe(0);
  });

  it('keeps the home account for an unmapped namespace, with no ARN annotations', async () => {
    const w = world();
    w.put('team-b');
    await w.router.reconcile('team-b', 'app');
    expect(w.status('team-b')).toMatchObject({ accountId: HOME });
    expect(w.homeRam.roles.size).toBe(1);
    expect(w.team.roles.size).toBe(0);
    expect(w.sts.assumed).toEqual([]);
    expect(
      w.serviceAccounts.annotations('team-b', 'app-sa')?.[ANNOTATION_ROLE_ARN],
    ).toBeUndefined();
  });

  it('reuses the session until shortly before it expires, and checks the provider only now and then', async () => {
    const w = world();
    w.put('team-a');
    await w.router.reconcile('team-a', 'app');
    await w.router.reconcile('team-a', 'app');
    expect(w.sts.assumed).toHaveLength(1);
    expect(w.teamIms.reads).toBe(1);
    w.advance(46 * 60_000); // 14 minutes left of the hour: renewed
    await w.router.reconcile('team-a', 'app');
    expect(w.sts.assumed).toHaveLength(2);
    expect(w.built.map((b) => b.accessKeyId)).toEqual(['STS.1', 'STS.2']);
    expect(w.teamIms.reads).toBe(2);
    expect(w.team.writes()).toEqual(['createRole']); // the later passes wrote nothing
  });

  it('sends the external id and says which role it could not assume', async () => {
    const w = world();
    w.setMappings([mapping('team-a', TEAM, ['team-a'], { externalId: 'ext-1' })]);
    w.sts.refuse = `acs:ram::${TEAM}:role/rrsa-manager`;
    w.put('team-a');
    await expect(w.router.reconcile('team-a', 'app')).rejects.toThrow(/not reachable/);
    expect(w.sts.assumed[0]?.externalId).toBe('ext-1');
    expect(w.ready('team-a')).toMatchObject({ status: 'False', reason: 'AccountUnreachable' });
    expect(w.ready('team-a')?.message).toContain(`role acs:ram::${TEAM}:role/rrsa-manager trusts`);
    expect(w.team.calls).toEqual([]);
  });

  it('stalls, and writes nothing anywhere, when the mapping of a bound namespace changes', async () => {
    const w = world();
    w.put('team-a');
    await w.router.reconcile('team-a', 'app');
    w.setMappings([mapping('team-a', OTHER, ['team-a'])]);
    const teamCalls = w.team.calls.length;
    await w.router.reconcile('team-a', 'app');
    expect(w.ready('team-a')).toMatchObject({ status: 'False', reason: 'AccountChanged' });
    const stalled = w.status('team-a')?.conditions?.find((c) => c.type === ConditionType.Stalled);
    expect(stalled).toMatchObject({ status: 'True', reason: 'AccountChanged' });
    expect(stalled?.message).toContain(`now maps to account ${OTHER} (AccountMapping team-a)`);
    expect(stalled?.message).toContain(`lives in account ${TEAM}`);
    expect(w.status('team-a')?.accountId).toBe(TEAM);
    expect(w.other.calls).toEqual([]);
    expect(w.team.calls.length).toBe(teamCalls);
    expect(w.events.events.map((e) => e.reason)).toContain('AccountChanged');
  });

  it('deletes the role in the account it lives in, after the mapping moved on', async () => {
    const w = world();
    w.put('team-a');
    await w.router.reconcile('team-a', 'app');
    expect(w.team.roles.size).toBe(1);
    // The namespace now maps elsewhere, but a mapping still reaches the old account.
    w.setMappings([mapping('team-a', OTHER, ['team-a']), mapping('old-team', TEAM, ['unused'])]);
    const stored = w.bindings.objects.get('team-a/app')!;
    w.bindings.put({
      ...stored,
      metadata: { ...stored.metadata, deletionTimestamp: '2026-06-01T01:00:00Z' },
    });
    await w.router.reconcile('team-a', 'app');
    expect(w.team.roles.size).toBe(0);
    expect(w.other.calls).toEqual([]);
    expect(w.bindings.objects.has('team-a/app')).toBe(false);
    expect(
      w.serviceAccounts.annotations('team-a', 'app-sa')?.[ANNOTATION_ROLE_ARN],
    ).toBeUndefined();
  });

  it('verifies a provider the mapping names and stalls when it is missing or for another issuer', async () => {
    const w = world();
    w.setMappings([mapping('team-a', TEAM, ['team-a'], { oidcProviderName: 'shared' })]);
    w.put('team-a');
    await w.router.reconcile('team-a', 'app');
    expect(w.ready('team-a')).toMatchObject({ reason: 'OidcProviderNotFound' });
    expect(w.teamIms.created).toEqual([]);
    w.teamIms.providers.set('shared', {
      name: 'shared',
      arn: `acs:ram::${TEAM}:oidc-provider/shared`,
      issuerUrl: 'https://someone-else.example',
      clientIds: ['sts.aliyuncs.com'],
    });
    await w.router.reconcile('team-a', 'app');
    expect(w.ready('team-a')).toMatchObject({ reason: 'OidcProviderMismatch' });
    w.teamIms.providers.set('shared', {
      ...w.teamIms.providers.get('shared')!,
      issuerUrl: cluster.issuerUrl,
    });
    await w.router.reconcile('team-a', 'app');
    expect(w.ready('team-a')).toMatchObject({ status: 'True' });
    expect(w.status('team-a')?.oidcProviderArn).toBe(`acs:ram::${TEAM}:oidc-provider/shared`);
  });
});

describe('AccountRouter deletion without a way into the account', () => {
  it('keeps the finalizer and says which account it cannot reach', async () => {
    const w = world();
    w.put('team-a');
    await w.router.reconcile('team-a', 'app');
    w.setMappings([]);
    const stored = w.bindings.objects.get('team-a/app')!;
    w.bindings.put({
      ...stored,
      metadata: { ...stored.metadata, deletionTimestamp: '2026-06-01T01:00:00Z' },
    });
    await expect(w.router.reconcile('team-a', 'app')).rejects.toThrow(/no AccountMapping reaches/);
    expect(w.bindings.objects.has('team-a/app')).toBe(true);
    expect(w.team.roles.size).toBe(1);
    expect(w.ready('team-a')).toMatchObject({ reason: 'AccountUnreachable' });
  });
});

import { startTestWebhook } from '../support/test-webhook.ts';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import * as $Ims from '@alicloud/ims20190815';
import * as $Ram from '@alicloud/ram20150501';
import * as $Sts from '@alicloud/sts20150401';
import {
  start as startEmulator,
  type RunningEmulator as Emulator,
} from '@rrsa-operator/alibaba-cloud-emulator';
import { createClusterOidcProvider } from '../../devenv/cloud-setup.ts';
import { kubectl, kubectlPath } from '../../devenv/kubectl.ts';
import { uninstallWebhook } from '../../devenv/webhook.ts';
import { AccountClients } from '../../src/cloud/account-clients.ts';
import { AlibabaRam } from '../../src/cloud/alibaba-ram.ts';
import { AlibabaIms, AlibabaSts } from '../../src/cloud/alibaba-sts-ims.ts';
import { issuerFingerprint } from '../../src/cloud/issuer-fingerprint.ts';
import {
  createSdkClients,
  type CloudEndpoints,
  type StaticCredentials,
} from '../../src/cloud/sdk-clients.ts';
import { BindingController } from '../../src/controller/controller.ts';
import type { ClusterIdentity } from '../../src/controller/types.ts';
import { DEFAULT_GUARDRAILS } from '../../src/identity/guardrails.ts';
import { createKubeClients, loadKubeConfig } from '../../src/kube/client.ts';
import { KubeEventSink } from '../../src/kube/events.ts';
import { type PodIdentityWebhook } from '../../src/kube/webhook-wiring.ts';
import { createLogger } from '../../src/runtime/logger.ts';
import { defaultInjectionConfig } from '../../src/webhook/config.ts';
import { testControlPlane, uniqueName } from '../support/cluster.ts';
import { eventually, operatorCredentials } from '../support/operator-env.ts';

// Roles in another account (docs/adr/0014), end to end on the real apiserver and the emulator
// through the real SDKs: an AccountMapping sends one namespace's bindings to a second account,
// where the operator (chaining sts:AssumeRole from its own key into that account's management
// role) creates the cluster's OIDC provider and the role; the apiserver calls the webhook, which
// injects that account's ARNs; a real ServiceAccount token is exchanged at STS for that role.

jest.setTimeout(180_000);

const cp = testControlPlane();
const TEAM = '2222222222222222';
const TEAM_KEY = { accessKeyId: 'LTAImultiTeamRoot01', accessKeySecret: 'team-root-secret' };
const run = uniqueName('ma');
const clusterId = run;
const RUN_LABEL = 'rrsa-multi-account-test';
const mappingName = uniqueName('team');
const selectorMappingName = uniqueName('team-tier');
const namespaces: string[] = [];
let emulator: Emulator;
let controller: BindingController;
let webhook: PodIdentityWebhook;
let cluster: ClusterIdentity;
const webhookName = uniqueName('rrsa-multi-account');

const k = async (args: string[], input?: string): Promise<string> =>
  (await kubectl(cp.kubeconfigPath, args, input === undefined ? {} : { input })).stdout;

function endpoints(): CloudEndpoints {
  const e = emulator.endpoint;
  return { region: 'cn-hangzhou', ram: e, sts: e, ims: e, protocol: 'http' };
}

const sdk = (keys: StaticCredentials) => createSdkClients(endpoints(), keys);

async function namespace(prefix: string): Promise<string> {
  const name = uniqueName(prefix);
  namespaces.push(name);
  await k(
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name,
        labels: { [RUN_LABEL]: run, 'pod-identity.alibabacloud.com/injection': 'on' },
      },
    }),
  );
  return name;
}

async function applyMapping(accountId: string, mapped: string[]): Promise<void> {
  await k(
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'rrsa.dev/v1alpha1',
      kind: 'AccountMapping',
      metadata: { name: mappingName },
      spec: { accountId, managementRoleName: 'rrsa-manager', namespaces: mapped },
    }),
  );
}

async function applyBinding(ns: string): Promise<void> {
  await k(
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'rrsa.dev/v1alpha1',
      kind: 'PodIdentityBinding',
      metadata: { name: 'app', namespace: ns, labels: { 'rrsa.dev/test-env': clusterId } },
      spec: { serviceAccountName: 'app-sa', createServiceAccount: true },
    }),
  );
}

interface BindingStatus {
  accountId?: string;
  roleName?: string;
  roleArn?: string;
  oidcProviderArn?: string;
  conditions?: { type: string; status: string; reason: string; message: string }[];
}

async function status(ns: string): Promise<BindingStatus> {
  return (
    (
      JSON.parse(await k(['get', 'pib', 'app', '-n', ns, '-o', 'json'])) as {
        status?: BindingStatus;
      }
    ).status ?? {}
  );
}

const condition = (s: BindingStatus, type: string) => s.conditions?.find((c) => c.type === type);

async function waitForReason(ns: string, reason: string): Promise<BindingStatus> {
  return eventually(
    `binding in ${ns} ${reason}`,
    async () => {
      const s = await status(ns);
      return condition(s, 'Ready')?.reason === reason ? s : undefined;
    },
    60_000,
  );
}

beforeAll(async () => {
  emulator = await startEmulator({
    accounts: [{ accountId: TEAM, rootKey: TEAM_KEY }],
    issuerOverrides: {
      [cp.issuer]: {
        discoveryUrl: `${cp.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`,
        caPem: cp.caPem,
      },
    },
  });
  const home = emulator.accountId;
  // The cluster's own RRSA provider (what ACK creates) in the home account.
  const homeProvider = await createClusterOidcProvider({
    endpoint: emulator.endpoint,
    credentials: emulator.rootKey,
    clusterId,
    issuerUrl: cp.issuer,
    issuerCaPem: cp.caPem,
  });
  cluster = {
    clusterId,
    accountId: home,
    oidcProviderArn: homeProvider,
    issuerUrl: cp.issuer,
    roleNamePrefix: 'rrsa-',
  };
  // The team account's admin: a management role trusting the cluster's account.
  const team = sdk(TEAM_KEY);
  await team.ram.createRole(
    new $Ram.CreateRoleRequest({
      roleName: 'rrsa-manager',
      assumeRolePolicyDocument: JSON.stringify({
        Version: '1',
        Statement: [
          {
            Action: 'sts:AssumeRole',
            Effect: 'Allow',
            Principal: { RAM: [`acs:ram::${home}:root`] },
          },
        ],
      }),
    }),
  );
  emulator.controls.attachPolicy('rrsa-manager', 'AliyunRAMFullAccess', 'System', TEAM);

  const kube = createKubeClients(
    loadKubeConfig(await operatorCredentials(cp.kubeconfigPath, cp.server, cp.caPem, cp.dir)),
  );
  controller = new BindingController({
    kube,
    cluster,
    guardrails: DEFAULT_GUARDRAILS,
    ram: new AlibabaRam(sdk(emulator.rootKey).ram),
    events: new KubeEventSink(kube.rest),
    logger: createLogger('error', true),
    resyncMs: 60_000,
    concurrency: 4,
    backoff: { baseMs: 100, maxMs: 2000 },
    bindingSelector: `rrsa.dev/test-env=${clusterId}`,
    multiAccount: {
      accounts: new AccountClients({
        sts: new AlibabaSts(sdk(emulator.rootKey).sts),
        build: (_accountId, credentials) => {
          const clients = sdk(credentials);
          return { ram: new AlibabaRam(clients.ram), ims: new AlibabaIms(clients.ims) };
        },
      }),
      // The real TLS chain of the local issuer (the apiserver), built with its CA.
      issuerFingerprint: () => issuerFingerprint(cp.issuer, { caPem: cp.caPem }),
    },
  });
  await controller.start();

  const operatorNs = await namespace('rrsa-op');
  webhook = await startTestWebhook({
    kubeconfigPath: cp.kubeconfigPath,
    webhookName,
    namespaceLabels: { [RUN_LABEL]: run },
    operatorNamespace: operatorNs,
    injection: defaultInjectionConfig({
      accountId: home,
      clusterId,
      stsEnv: { enabled: true, region: 'cn-hangzhou', vpcEndpoint: false },
    }),
  });
});

afterAll(async () => {
  await controller?.stop();
  await uninstallWebhook(cp.kubeconfigPath, webhookName);
  await webhook?.stop();
  await k(['delete', 'accountmapping', mappingName, selectorMappingName, '--ignore-not-found']);
  if (namespaces.length > 0) await k(['delete', 'namespace', ...namespaces, '--wait=false']);
  await emulator?.stop();
});

/** The env the apiserver's call to the webhook puts into a (server-side dry-run) pod. */
async function injectedEnv(ns: string): Promise<Record<string, string>> {
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'app', namespace: ns },
    spec: { serviceAccountName: 'app-sa', containers: [{ name: 'app', image: 'app' }] },
  };
  const created = JSON.parse(
    await k(['create', '--dry-run=server', '-o', 'json', '-f', '-'], JSON.stringify(pod)),
  ) as { spec: { containers: { env?: { name: string; value: string }[] }[] } };
  return Object.fromEntries((created.spec.containers[0]?.env ?? []).map((e) => [e.name, e.value]));
}

it('tenants cannot write AccountMappings; the operator only reads them', async () => {
  const ns = await namespace('tenant');
  await k([
    'create',
    'rolebinding',
    'tenant-admin',
    '--clusterrole=admin',
    '--user=tenant-x',
    '-n',
    ns,
  ]);
  // `kubectl auth can-i` exits 1 for "no": read its answer, not its exit code.
  const can = (args: string[]): Promise<string> =>
    new Promise((resolve) => {
      execFile(
        kubectlPath(),
        ['--kubeconfig', cp.kubeconfigPath, 'auth', 'can-i', ...args],
        (_error, stdout) => resolve(String(stdout).trim()),
      );
    });
  expect(await can(['create', 'podidentitybindings.rrsa.dev', '-n', ns, '--as', 'tenant-x'])).toBe(
    'yes',
  );
  expect(await can(['create', 'accountmappings.rrsa.dev', '--as', 'tenant-x'])).toBe('no');
  const operator = 'system:serviceaccount:rrsa-system:rrsa-operator';
  expect(await can(['list', 'accountmappings.rrsa.dev', '--as', operator])).toBe('yes');
  expect(await can(['update', 'accountmappings.rrsa.dev', '--as', operator])).toBe('no');
});

describe('a binding in a mapped namespace', () => {
  let mapped: string;
  let unmapped: string;
  let s: BindingStatus;
  let providerArn: string;

  beforeAll(async () => {
    mapped = await namespace('team-a');
    unmapped = await namespace('team-b');
    providerArn = `acs:ram::${TEAM}:oidc-provider/ack-rrsa-${clusterId}`;
    await applyMapping(TEAM, [mapped]);
    await applyBinding(mapped);
    await applyBinding(unmapped);
    s = await waitForReason(mapped, 'Bound');
  });

  it("gets its role in the other account, trusting that account's new OIDC provider", () => {
    expect(s.accountId).toBe(TEAM);
    expect(s.roleArn).toBe(`acs:ram::${TEAM}:role/${s.roleName}`);
    expect(s.oidcProviderArn).toBe(providerArn);
    // The provider the operator created there: this issuer, the CA's fingerprint, the STS audience.
    const provider = emulator.controls.dump(TEAM).oidcProviders[0];
    expect(provider).toMatchObject({
      arn: providerArn,
      issuerUrl: cp.issuer,
      clientIds: ['sts.aliyuncs.com'],
      fingerprints: [new X509Certificate(cp.caPem).fingerprint.replace(/:/g, '').toLowerCase()],
    });
    const role = emulator.controls.dump(TEAM).roles.find((r) => r.roleName === s.roleName);
    expect(role?.tags).toMatchObject({
      'rrsa.dev/account-id': TEAM,
      'rrsa.dev/cluster-id': clusterId,
    });
    const trust = JSON.parse(role?.trustPolicy ?? '{}') as {
      Statement: {
        Principal: { Federated: string[] };
        Condition: { StringEquals: Record<string, string> };
      }[];
    };
    expect(trust.Statement[0]?.Principal.Federated).toEqual([providerArn]);
    expect(trust.Statement[0]?.Condition.StringEquals['oidc:sub']).toBe(
      `system:serviceaccount:${mapped}:app-sa`,
    );
    expect(emulator.controls.dump().roles.map((r) => r.roleName)).not.toContain(s.roleName);
  });

  it("gets that account's ARNs injected, and STS there accepts the pod's token", async () => {
    // The apiserver calls the webhook: the pod gets the team account's ARNs.
    const env = await eventually('the webhook to inject', async () => {
      const e = await injectedEnv(mapped);
      return e.ALIBABA_CLOUD_ROLE_ARN ? e : undefined;
    });
    expect(env.ALIBABA_CLOUD_ROLE_ARN).toBe(s.roleArn);
    expect(env.ALIBABA_CLOUD_OIDC_PROVIDER_ARN).toBe(providerArn);
    // A real token of that ServiceAccount, exchanged at STS for the role in the team account.
    const token = (
      await k(['create', 'token', 'app-sa', '-n', mapped, '--audience', 'sts.aliyuncs.com'])
    ).trim();
    const anonymous = sdk({ accessKeyId: 'unused', accessKeySecret: 'unused' });
    const assumed = await anonymous.sts.assumeRoleWithOIDC(
      new $Sts.AssumeRoleWithOIDCRequest({
        OIDCProviderArn: env.ALIBABA_CLOUD_OIDC_PROVIDER_ARN,
        roleArn: env.ALIBABA_CLOUD_ROLE_ARN,
        OIDCToken: token,
        roleSessionName: 'app',
      }),
    );
    const session = assumed.body?.credentials;
    const identity = await sdk({
      accessKeyId: session?.accessKeyId ?? '',
      accessKeySecret: session?.accessKeySecret ?? '',
      securityToken: session?.securityToken ?? '',
    }).sts.getCallerIdentity();
    expect(identity.body?.accountId).toBe(TEAM);
  });

  it("leaves an unmapped namespace in the cluster's own account", async () => {
    const home = await waitForReason(unmapped, 'Bound');
    expect(home.accountId).toBe(emulator.accountId);
    expect(emulator.controls.dump().roles.map((r) => r.roleName)).toContain(home.roleName);
    const homeEnv = await injectedEnv(unmapped);
    expect(homeEnv.ALIBABA_CLOUD_ROLE_ARN).toBe(
      `acs:ram::${emulator.accountId}:role/${home.roleName}`,
    );
  });

  it('is Stalled, with nothing moved or created, when the mapping names another account', async () => {
    const roleCount = emulator.controls.dump(TEAM).roles.length;
    await applyMapping('3333333333333333', [mapped]);
    const changed = await waitForReason(mapped, 'AccountChanged');
    expect(condition(changed, 'Stalled')).toMatchObject({
      status: 'True',
      reason: 'AccountChanged',
    });
    expect(condition(changed, 'Ready')?.message).toContain('account 3333333333333333');
    expect(condition(changed, 'Ready')?.message).toContain(`lives in account ${TEAM}`);
    expect(changed.accountId).toBe(TEAM);
    expect(emulator.controls.dump(TEAM).roles).toHaveLength(roleCount);
  });

  it('is Ready again once the mapping is restored, and its deletion removes the role there', async () => {
    await applyMapping(TEAM, [mapped]);
    await waitForReason(mapped, 'Bound');
    await k(['delete', 'pib', 'app', '-n', mapped, '--wait=true', '--timeout=60s']);
    expect(emulator.controls.dump(TEAM).roles.map((r) => r.roleName)).not.toContain(s.roleName);
    // The provider is the cluster's, not the binding's: it stays for the next binding.
    const provider = await sdk(TEAM_KEY).ims.getOIDCProvider(
      new $Ims.GetOIDCProviderRequest({ OIDCProviderName: `ack-rrsa-${clusterId}` }),
    );
    expect(provider.body?.OIDCProvider?.issuerUrl).toBe(cp.issuer);
  });
});

describe('a namespace relabelled into a selector mapping', () => {
  it('re-routes its binding at once, not at the resync (the Namespace cache re-queues it)', async () => {
    const tier = uniqueName('tier');
    // The mapping first: its own change re-queues every binding, which must not be what we see.
    await k(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'rrsa.dev/v1alpha1',
        kind: 'AccountMapping',
        metadata: { name: selectorMappingName },
        spec: {
          accountId: TEAM,
          managementRoleName: 'rrsa-manager',
          namespaceSelector: { matchLabels: { [`${RUN_LABEL}-tier`]: tier } },
        },
      }),
    );
    const ns = await namespace('team-c');
    await applyBinding(ns);
    const home = await waitForReason(ns, 'Bound');
    expect(home.accountId).toBe(emulator.accountId);

    // Labelled into the mapping: the role now belongs in the team account, but it lives at home,
    // so the binding stalls (nothing moved). 20 s is well inside the 60 s resync of its last pass.
    await k(['label', 'namespace', ns, `${RUN_LABEL}-tier=${tier}`]);
    const moved = await eventually(
      'AccountChanged after the label',
      async () => {
        const st = await status(ns);
        return condition(st, 'Ready')?.reason === 'AccountChanged' ? st : undefined;
      },
      20_000,
    );
    expect(condition(moved, 'Ready')?.message).toContain(`account ${TEAM}`);
    // And back: the label removed, it is Bound at home again.
    await k(['label', 'namespace', ns, `${RUN_LABEL}-tier-`]);
    const back = await eventually(
      'Bound after the label is removed',
      async () => {
        const st = await status(ns);
        return condition(st, 'Ready')?.reason === 'Bound' ? st : undefined;
      },
      20_000,
    );
    expect(back.accountId).toBe(emulator.accountId);
  });
});

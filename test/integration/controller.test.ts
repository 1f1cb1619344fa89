import type { PodIdentityBinding } from '../../src/api/types.ts';
import { kubectl } from '../../devenv/kubectl.ts';
import { ownedTrustDocument, bindingStatement } from '../../src/identity/trust-policy.ts';
import { createNamespace, testControlPlane } from '../support/cluster.ts';
import { eventually, startOperatorEnv, type OperatorEnv } from '../support/operator-env.ts';

const cp = testControlPlane();
const ROLE_ANNOTATION = 'pod-identity.alibabacloud.com/role-name';
const EXPIRATION_ANNOTATION = 'pod-identity.alibabacloud.com/service-account-token-expiration';
const RESYNC_MS = 3000;
let env: OperatorEnv;

beforeAll(async () => {
  env = await startOperatorEnv({ resyncMs: RESYNC_MS, guardrails: { allowAdoption: true } });
});
afterAll(async () => {
  await env?.stop();
});

async function apply(object: object): Promise<void> {
  await kubectl(cp.kubeconfigPath, ['apply', '-f', '-'], { input: JSON.stringify(object) });
}

function binding(ns: string, name: string, spec: Record<string, unknown>): object {
  return {
    apiVersion: 'rrsa.dev/v1alpha1',
    kind: 'PodIdentityBinding',
    metadata: { name, namespace: ns, labels: env.labels },
    spec,
  };
}

async function getBinding(ns: string, name: string): Promise<PodIdentityBinding | undefined> {
  try {
    return (await env.admin.custom.getNamespacedCustomObject({
      group: 'rrsa.dev',
      version: 'v1alpha1',
      plural: 'podidentitybindings',
      namespace: ns,
      name,
    })) as PodIdentityBinding;
  } catch {
    return undefined;
  }
}

function condition(b: PodIdentityBinding | undefined, type: string) {
  return b?.status?.conditions?.find((c) => c.type === type);
}

async function waitFor(
  ns: string,
  name: string,
  test: (b: PodIdentityBinding) => boolean,
  what: string,
  timeoutMs = 60_000,
) {
  return eventually(
    `${ns}/${name}: ${what}`,
    async () => {
      const b = await getBinding(ns, name);
      return b && b.status?.observedGeneration === b.metadata.generation && test(b) ? b : undefined;
    },
    timeoutMs,
  );
}

const waitReady = (ns: string, name: string) =>
  waitFor(ns, name, (b) => condition(b, 'Ready')?.status === 'True', 'Ready');
const waitReason = (ns: string, name: string, reason: string) =>
  waitFor(ns, name, (b) => condition(b, 'Ready')?.reason === reason, `reason ${reason}`);

async function saAnnotations(
  ns: string,
  name: string,
): Promise<Record<string, string> | undefined> {
  try {
    return (
      (await env.admin.core.readNamespacedServiceAccount({ namespace: ns, name })).metadata
        ?.annotations ?? {}
    );
  } catch {
    return undefined;
  }
}

/** RAM calls since `seq` that concern roles of one namespace (other tests' bindings keep resyncing). */
const callsFor = (seq: number, ns: string, write?: boolean) =>
  env.emulator.controls
    .requests({ since: seq, service: 'ram', ...(write === undefined ? {} : { write }) })
    .filter((r) => JSON.stringify(r.params).includes(ns)).length;

describe('PodIdentityBinding controller (real apiserver + emulator)', () => {
  it('creates the role with tags, trust policy, policies, annotation, and reports Ready', async () => {
    const ns = await createNamespace(cp, 'ctl');
    await kubectl(cp.kubeconfigPath, ['create', 'serviceaccount', 'demo-sa', '-n', ns]);
    await apply(
      binding(ns, 'demo', {
        serviceAccountName: 'demo-sa',
        role: { policies: [{ type: 'System', name: 'AliyunCSReadOnlyAccess' }] },
        tokenExpirationSeconds: 7200,
      }),
    );
    const ready = await waitReady(ns, 'demo');
    const roleName = ready.status!.roleName!;
    expect(roleName).toMatch(new RegExp(`^rrsa-${ns}\\.demo-sa-[0-9a-f]{8}$`));
    expect(ready.status).toMatchObject({
      roleArn: `acs:ram::${env.cluster.accountId}:role/${roleName}`,
      oidcProviderArn: env.cluster.oidcProviderArn,
      roleOwnership: 'Created',
      attachedPolicies: [{ type: 'System', name: 'AliyunCSReadOnlyAccess' }],
    });
    for (const type of ['RoleReady', 'TrustPolicyReady', 'PoliciesReady', 'ServiceAccountReady'])
      expect(condition(ready, type)?.status).toBe('True');
    expect(condition(ready, 'Stalled')?.status).toBe('False');
    expect(ready.metadata.finalizers).toContain('rrsa.dev/finalizer');

    const role = await env.rootRam.getRole(roleName);
    const target = {
      providerArn: env.cluster.oidcProviderArn,
      issuer: env.cluster.issuerUrl,
      namespace: ns,
      serviceAccount: 'demo-sa',
    };
    expect(JSON.parse(role!.trustPolicy)).toEqual(ownedTrustDocument(target));
    expect(await env.rootRam.listRoleTags(roleName)).toEqual({
      'rrsa.dev/managed-by': 'rrsa-operator',
      'rrsa.dev/cluster-id': env.cluster.clusterId,
      'rrsa.dev/namespace': ns,
      'rrsa.dev/binding': 'demo',
      'rrsa.dev/account-id': env.cluster.accountId,
    });
    expect(await env.rootRam.listPoliciesForRole(roleName)).toEqual([
      { type: 'System', name: 'AliyunCSReadOnlyAccess' },
    ]);
    expect(await saAnnotations(ns, 'demo-sa')).toMatchObject({
      [ROLE_ANNOTATION]: roleName,
      [EXPIRATION_ANNOTATION]: '7200',
    });

    // kubectl shows the columns.
    const table = (await kubectl(cp.kubeconfigPath, ['get', 'podidentitybindings', '-n', ns]))
      .stdout;
    expect(table.split('\n')[0]).toMatch(/^NAME\s+SERVICEACCOUNT\s+ROLE\s+READY\s+REASON\s+AGE/);
    expect(table).toMatch(
      new RegExp(`demo\\s+demo-sa\\s+${roleName.replace(/\./g, '\\.')}\\s+True\\s+Bound`),
    );
    const wide = (await kubectl(cp.kubeconfigPath, ['get', 'pib', '-n', ns, '-o', 'wide'])).stdout;
    expect(wide).toContain(`acs:ram::${env.cluster.accountId}:role/${roleName}`);

    // Add and remove policies; change the token expiration.
    await apply(
      binding(ns, 'demo', {
        serviceAccountName: 'demo-sa',
        role: { policies: [{ type: 'System', name: 'AliyunOSSReadOnlyAccess' }] },
        tokenExpirationSeconds: 3600,
      }),
    );
    await waitFor(
      ns,
      'demo',
      (b) =>
        b.status?.attachedPolicies?.[0]?.name === 'AliyunOSSReadOnlyAccess' &&
        condition(b, 'Ready')?.status === 'True',
      'policy swapped',
    );
    expect(await env.rootRam.listPoliciesForRole(roleName)).toEqual([
      { type: 'System', name: 'AliyunOSSReadOnlyAccess' },
    ]);
    await eventually('expiration annotation 3600', async () =>
      (await saAnnotations(ns, 'demo-sa'))?.[EXPIRATION_ANNOTATION] === '3600' ? true : undefined,
    );

    // Steady state: a full resync period later, not one RAM write.
    const seq = env.emulator.controls.lastSeq();
    const readsBefore = callsFor(seq, ns, false);
    await new Promise((r) => setTimeout(r, RESYNC_MS * 1.5));
    expect(callsFor(seq, ns, false)).toBeGreaterThan(readsBefore);
    expect(callsFor(seq, ns, true)).toBe(0);

    // The ServiceAccount deleted and recreated gets its annotation back.
    await kubectl(cp.kubeconfigPath, ['delete', 'serviceaccount', 'demo-sa', '-n', ns]);
    await waitReason(ns, 'demo', 'ServiceAccountNotFound');
    await kubectl(cp.kubeconfigPath, ['create', 'serviceaccount', 'demo-sa', '-n', ns]);
    await eventually('re-annotated', async () =>
      (await saAnnotations(ns, 'demo-sa'))?.[ROLE_ANNOTATION] === roleName ? true : undefined,
    );
    await waitReady(ns, 'demo');

    // Delete (policy Delete): role emptied and deleted, annotation removed, binding gone.
    await kubectl(cp.kubeconfigPath, ['delete', 'pib', 'demo', '-n', ns]);
    await eventually('binding gone', async () =>
      (await getBinding(ns, 'demo')) ? undefined : true,
    );
    expect(await env.rootRam.getRole(roleName)).toBeUndefined();
    expect((await saAnnotations(ns, 'demo-sa'))?.[ROLE_ANNOTATION]).toBeUndefined();
  });

  it('repairs drift made in the console on the next resync', async () => {
    const ns = await createNamespace(cp, 'drift');
    await apply(
      binding(ns, 'app', {
        serviceAccountName: 'app',
        createServiceAccount: true,
        role: { policies: [{ type: 'System', name: 'AliyunOSSReadOnlyAccess' }] },
      }),
    );
    const ready = await waitReady(ns, 'app');
    const roleName = ready.status!.roleName!;
    expect(await saAnnotations(ns, 'app')).toMatchObject({ [ROLE_ANNOTATION]: roleName });
    // Someone edits the trust policy, detaches the policy and attaches another one by hand.
    await env.rootRam.updateRole(roleName, {
      trustPolicy: JSON.stringify({
        Version: '1',
        Statement: [
          {
            Action: 'sts:AssumeRole',
            Effect: 'Allow',
            Principal: { Service: ['ecs.aliyuncs.com'] },
          },
        ],
      }),
    });
    await env.rootRam.detachPolicy(roleName, { type: 'System', name: 'AliyunOSSReadOnlyAccess' });
    await env.rootRam.attachPolicy(roleName, { type: 'System', name: 'AliyunCSReadOnlyAccess' });
    await kubectl(cp.kubeconfigPath, [
      'annotate',
      'serviceaccount',
      'app',
      '-n',
      ns,
      `${ROLE_ANNOTATION}-`,
    ]);
    await eventually(
      'trust policy repaired',
      async () => {
        const role = await env.rootRam.getRole(roleName);
        const statement = JSON.parse(role!.trustPolicy).Statement;
        return statement.length === 1 && statement[0].Principal.Federated ? true : undefined;
      },
      RESYNC_MS * 4,
    );
    await eventually(
      'policies repaired',
      async () => {
        const policies = await env.rootRam.listPoliciesForRole(roleName);
        return policies.length === 1 && policies[0]!.name === 'AliyunOSSReadOnlyAccess'
          ? true
          : undefined;
      },
      RESYNC_MS * 4,
    );
    await eventually('annotation restored', async () =>
      (await saAnnotations(ns, 'app'))?.[ROLE_ANNOTATION] === roleName ? true : undefined,
    );
  });

  it('leaves a foreign pre-existing role untouched and says what to do', async () => {
    const ns = await createNamespace(cp, 'foreign');
    const foreignTrust = JSON.stringify({
      Version: '1',
      Statement: [
        { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: ['ecs.aliyuncs.com'] } },
      ],
    });
    await env.rootRam.createRole({ name: `legacy-${ns}`, trustPolicy: foreignTrust, tags: {} });
    const seq = env.emulator.controls.lastSeq();
    await apply(
      binding(ns, 'app', {
        serviceAccountName: 'app',
        createServiceAccount: true,
        role: { name: `legacy-${ns}` },
      }),
    );
    const stalled = await waitReason(ns, 'app', 'RoleAlreadyExists');
    expect(condition(stalled, 'Stalled')?.status).toBe('True');
    expect(condition(stalled, 'Ready')?.message).toContain('set spec.role.adopt');
    expect(callsFor(seq, ns, true)).toBe(0);
    expect((await env.rootRam.getRole(`legacy-${ns}`))!.trustPolicy).toBe(foreignTrust);
    // Deleting the refused binding never deletes the foreign role.
    await kubectl(cp.kubeconfigPath, ['delete', 'pib', 'app', '-n', ns]);
    expect(await env.rootRam.getRole(`legacy-${ns}`)).toBeDefined();
  });

  it('adopts a role on request: appends its statement, keeps foreign ones, and only removes its own', async () => {
    const ns = await createNamespace(cp, 'adopt');
    const foreign = {
      Action: 'sts:AssumeRole',
      Effect: 'Allow',
      Principal: { Service: ['ecs.aliyuncs.com'] },
    };
    const name = `shared-${ns}`;
    await env.rootRam.createRole({
      name,
      trustPolicy: JSON.stringify({ Version: '1', Statement: [foreign] }),
      description: 'kept',
      tags: {},
    });
    await env.rootRam.attachPolicy(name, { type: 'System', name: 'AliyunCSReadOnlyAccess' });
    await apply(
      binding(ns, 'app', {
        serviceAccountName: 'app',
        createServiceAccount: true,
        role: {
          name,
          adopt: true,
          policies: [{ type: 'System', name: 'AliyunOSSReadOnlyAccess' }],
        },
      }),
    );
    const ready = await waitReady(ns, 'app');
    expect(ready.status?.roleOwnership).toBe('Adopted');
    const target = {
      providerArn: env.cluster.oidcProviderArn,
      issuer: env.cluster.issuerUrl,
      namespace: ns,
      serviceAccount: 'app',
    };
    const role = await env.rootRam.getRole(name);
    expect(JSON.parse(role!.trustPolicy).Statement).toEqual([foreign, bindingStatement(target)]);
    expect(role!.description).toBe('kept');
    // Never tagged as ours (so never deleted); only the adoption ledger, naming what it attached.
    const tags = await env.rootRam.listRoleTags(name);
    expect(Object.keys(tags)).toEqual([
      expect.stringMatching(/^rrsa\.dev\/adopted-by\.[0-9a-f]{16}$/),
    ]);
    expect(Object.values(tags)).toEqual(['System:AliyunOSSReadOnlyAccess']);
    await kubectl(cp.kubeconfigPath, ['delete', 'pib', 'app', '-n', ns]);
    await eventually('binding gone', async () =>
      (await getBinding(ns, 'app')) ? undefined : true,
    );
    const after = await env.rootRam.getRole(name);
    expect(after).toBeDefined();
    expect(JSON.parse(after!.trustPolicy).Statement).toEqual([foreign]);
    expect(await env.rootRam.listPoliciesForRole(name)).toEqual([
      { type: 'System', name: 'AliyunCSReadOnlyAccess' },
    ]);
    expect(await env.rootRam.listRoleTags(name)).toEqual({});
  });

  it('gives a ServiceAccount to the older of two bindings; the newer reports the conflict', async () => {
    const ns = await createNamespace(cp, 'conflict');
    await apply(binding(ns, 'first', { serviceAccountName: 'app', createServiceAccount: true }));
    const first = await waitReady(ns, 'first');
    await new Promise((r) => setTimeout(r, 1100)); // creation timestamps have 1 s resolution
    await apply(binding(ns, 'second', { serviceAccountName: 'app' }));
    const second = await waitReason(ns, 'second', 'ServiceAccountConflict');
    expect(condition(second, 'Stalled')?.status).toBe('True');
    expect(condition(second, 'Ready')?.message).toContain('older PodIdentityBinding first');
    expect((await saAnnotations(ns, 'app'))?.[ROLE_ANNOTATION]).toBe(first.status!.roleName);
    // The holder goes away: the other one takes over.
    await kubectl(cp.kubeconfigPath, ['delete', 'pib', 'first', '-n', ns]);
    const taken = await waitReady(ns, 'second');
    expect((await saAnnotations(ns, 'app'))?.[ROLE_ANNOTATION]).toBe(taken.status!.roleName);
  });

  it('Retain keeps the role; a role already gone is deletion success', async () => {
    const ns = await createNamespace(cp, 'retain');
    await apply(
      binding(ns, 'kept', {
        serviceAccountName: 'kept',
        createServiceAccount: true,
        deletionPolicy: 'Retain',
      }),
    );
    await apply(binding(ns, 'gone', { serviceAccountName: 'gone', createServiceAccount: true }));
    const kept = await waitReady(ns, 'kept');
    const gone = await waitReady(ns, 'gone');
    await kubectl(cp.kubeconfigPath, ['delete', 'pib', 'kept', '-n', ns]);
    await eventually('kept binding gone', async () =>
      (await getBinding(ns, 'kept')) ? undefined : true,
    );
    expect(await env.rootRam.getRole(kept.status!.roleName!)).toBeDefined();
    expect((await saAnnotations(ns, 'kept'))?.[ROLE_ANNOTATION]).toBeUndefined();
    await env.rootRam.deleteRole(gone.status!.roleName!);
    await kubectl(cp.kubeconfigPath, ['delete', 'pib', 'gone', '-n', ns]);
    await eventually('gone binding gone', async () =>
      (await getBinding(ns, 'gone')) ? undefined : true,
    );
  });

  it('refuses a denied policy before any RAM call, with a message naming the field', async () => {
    const ns = await createNamespace(cp, 'guard');
    const seq = env.emulator.controls.lastSeq();
    await apply(
      binding(ns, 'admin', {
        serviceAccountName: 'app',
        role: { policies: [{ type: 'System', name: 'AdministratorAccess' }] },
      }),
    );
    const refused = await waitReason(ns, 'admin', 'GuardrailViolation');
    expect(condition(refused, 'Ready')?.message).toBe(
      'spec.role.policies[0]: policy System:AdministratorAccess is denied by the cluster guardrail "System:AdministratorAccess": use a narrower policy or ask the cluster admin',
    );
    expect(condition(refused, 'Stalled')?.status).toBe('True');
    expect(callsFor(seq, ns)).toBe(0);
  });

  it('converges through a throttling storm, honouring retry-after', async () => {
    const ns = await createNamespace(cp, 'storm');
    const rule = env.emulator.controls.faults.add({
      service: 'ram',
      code: 'Throttling.User',
      rate: 0.5,
      retryAfterMs: 200,
    });
    try {
      for (let i = 0; i < 5; i++)
        await apply(
          binding(ns, `b${i}`, {
            serviceAccountName: `sa${i}`,
            createServiceAccount: true,
            role: { policies: [{ type: 'System', name: 'AliyunOSSReadOnlyAccess' }] },
          }),
        );
      for (let i = 0; i < 5; i++) await waitReady(ns, `b${i}`);
      expect(rule.fired).toBeGreaterThan(0);
    } finally {
      env.emulator.controls.faults.remove(rule.id);
    }
    const tagged = await Promise.all(
      [0, 1, 2, 3, 4].map(async (i) => (await getBinding(ns, `b${i}`))!.status!.roleName!),
    );
    expect(new Set(tagged).size).toBe(5);
  });
});

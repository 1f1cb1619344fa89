import type { PodIdentityBinding } from '../../src/api/types.ts';
import { kubectl } from '../../devenv/kubectl.ts';
import { createNamespace, testControlPlane } from '../support/cluster.ts';
import { eventually, startOperatorEnv, type OperatorEnv } from '../support/operator-env.ts';
import { Tenants } from '../support/tenant.ts';

const cp = testControlPlane();
let env: OperatorEnv;

beforeAll(async () => {
  env = await startOperatorEnv(); // default guardrails: adoption forbidden, admin policies denied
});
afterAll(async () => env?.stop());

const tenants = new Tenants(cp.kubeconfigPath);

/** Applies a binding as the namespace's tenant (impersonated: the tenant's own authorization). */
async function apply(ns: string, name: string, spec: object): Promise<void> {
  await tenants.applyBinding(ns, name, spec, env.labels);
}

async function readyCondition(ns: string, name: string, reason?: string) {
  return eventually(`${ns}/${name} ${reason ?? 'settled'}`, async () => {
    const b = (await env.admin.custom.getNamespacedCustomObject({
      group: 'rrsa.dev',
      version: 'v1alpha1',
      plural: 'podidentitybindings',
      namespace: ns,
      name,
    })) as PodIdentityBinding;
    const ready = b.status?.conditions?.find((c) => c.type === 'Ready');
    const stalled = b.status?.conditions?.find((c) => c.type === 'Stalled');
    if (b.status?.observedGeneration !== b.metadata.generation || !ready) return undefined;
    if (reason && ready.reason !== reason) return undefined;
    return { ready, stalled, status: b.status };
  });
}

const ramSnapshot = async (name: string) => {
  const role = await env.rootRam.getRole(name);
  return (
    role && {
      trust: role.trustPolicy,
      tags: await env.rootRam.listRoleTags(name),
      policies: await env.rootRam.listPoliciesForRole(name),
    }
  );
};

async function deleteAndWait(ns: string, name: string): Promise<void> {
  await kubectl(cp.kubeconfigPath, [
    'delete',
    'pib',
    name,
    '-n',
    ns,
    await tenants.as(ns),
    '--wait=true',
    '--timeout=60s',
  ]);
}

describe('multi-tenant safety: a tenant with edit rights in one namespace', () => {
  let victimNs: string;
  let victimRole: string;

  beforeAll(async () => {
    victimNs = await createNamespace(cp, 'victim');
    await apply(victimNs, 'payments', {
      serviceAccountName: 'payments',
      createServiceAccount: true,
      role: { policies: [{ type: 'System', name: 'AliyunOSSReadOnlyAccess' }] },
    });
    victimRole = (await readyCondition(victimNs, 'payments', 'Bound')).status!.roleName!;
  });

  it("cannot claim another tenant's derived role name, get a statement on it, or have it deleted", async () => {
    const before = await ramSnapshot(victimRole);
    const ns = await createNamespace(cp, 'tenant');
    await apply(ns, 'grab', {
      serviceAccountName: 'attacker',
      createServiceAccount: true,
      role: { name: victimRole },
    });
    // Derived names are the operator's: refused by the guardrail before any RAM call, so the
    // name of a binding that does not exist yet cannot be squatted either.
    const { ready, stalled } = await readyCondition(ns, 'grab', 'GuardrailViolation');
    expect(ready.message).toContain('reserved for the names the operator derives');
    expect(ready.message.replace(victimRole, '')).not.toMatch(/victim|payments/);
    expect(stalled?.status).toBe('True');
    await deleteAndWait(ns, 'grab');
    expect(await ramSnapshot(victimRole)).toEqual(before);
  });

  it('cannot adopt when the cluster forbids it, even naming an unmanaged role', async () => {
    await env.rootRam.createRole({
      name: 'prod-admin-legacy',
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
      tags: {},
    });
    await env.rootRam.attachPolicy('prod-admin-legacy', {
      type: 'System',
      name: 'AdministratorAccess',
    });
    const before = await ramSnapshot('prod-admin-legacy');
    const ns = await createNamespace(cp, 'tenant');
    await apply(ns, 'adopt', {
      serviceAccountName: 'x',
      role: { name: 'prod-admin-legacy', adopt: true },
    });
    const { ready } = await readyCondition(ns, 'adopt', 'GuardrailViolation');
    expect(ready.message).toContain(
      'spec.role.adopt: this cluster does not allow adopting existing RAM roles',
    );
    await deleteAndWait(ns, 'adopt');
    expect(await ramSnapshot('prod-admin-legacy')).toEqual(before);
  });

  it('cannot take over a role of another cluster sharing the account', async () => {
    await env.rootRam.createRole({
      name: 'other-cluster-role',
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
      tags: {
        'rrsa.dev/managed-by': 'rrsa-operator',
        'rrsa.dev/cluster-id': 'another-cluster',
        'rrsa.dev/namespace': 'n',
        'rrsa.dev/binding': 'b',
      },
    });
    const before = await ramSnapshot('other-cluster-role');
    const ns = await createNamespace(cp, 'tenant');
    await apply(ns, 'b', { serviceAccountName: 'b', role: { name: 'other-cluster-role' } });
    const { ready } = await readyCondition(ns, 'b', 'RoleOwnedByAnotherBinding');
    expect(ready.message).toContain('managed by another PodIdentityBinding (or another cluster)');
    expect(ready.message).not.toContain('another-cluster');
    await deleteAndWait(ns, 'b');
    expect(await ramSnapshot('other-cluster-role')).toEqual(before);
  });

  it('gets a trust statement only for its own namespace, never for another', async () => {
    const ns = await createNamespace(cp, 'tenant');
    // Naming the victim's ServiceAccount name in its own namespace yields a statement for
    // system:serviceaccount:<own ns>:payments, never for the victim's namespace.
    await apply(ns, 'mine', { serviceAccountName: 'payments', createServiceAccount: true });
    const { status } = await readyCondition(ns, 'mine', 'Bound');
    const trust = JSON.parse((await env.rootRam.getRole(status!.roleName!))!.trustPolicy) as {
      Statement: { Condition: { StringEquals: Record<string, string> } }[];
    };
    expect(trust.Statement.map((s) => s.Condition.StringEquals['oidc:sub'])).toEqual([
      `system:serviceaccount:${ns}:payments`,
    ]);
  });

  it('cannot attach a denied policy (refused before any RAM call)', async () => {
    const ns = await createNamespace(cp, 'tenant');
    const seq = env.emulator.controls.lastSeq();
    await apply(ns, 'escalate', {
      serviceAccountName: 'x',
      role: { policies: [{ type: 'System', name: 'AliyunRAMFullAccess' }] },
    });
    const { ready } = await readyCondition(ns, 'escalate', 'GuardrailViolation');
    expect(ready.message).toContain(
      'System:AliyunRAMFullAccess is denied by the cluster guardrail "System:*FullAccess"',
    );
    expect(
      env.emulator.controls
        .requests({ since: seq, service: 'ram' })
        .filter((r) => JSON.stringify(r.params).includes(ns)),
    ).toEqual([]);
  });

  it('tenants manage bindings through the built-in edit role, but cannot write status', async () => {
    await kubectl(cp.kubeconfigPath, ['apply', '-f', 'config/rbac/aggregate-roles.yaml']);
    const ns = await createNamespace(cp, 'edit-role');
    await kubectl(cp.kubeconfigPath, [
      'create',
      'rolebinding',
      'tenant-edit',
      '--clusterrole=edit',
      '--user=tenant',
      '-n',
      ns,
    ]);
    await kubectl(cp.kubeconfigPath, [
      'create',
      'rolebinding',
      'auditor-view',
      '--clusterrole=view',
      '--user=auditor',
      '-n',
      ns,
    ]);
    // `kubectl auth can-i` exits 1 when the answer is no.
    const can = (
      user: string,
      verb: string,
      resource: string,
      namespace = ns,
      subresource?: string,
    ): Promise<boolean> =>
      kubectl(cp.kubeconfigPath, [
        'auth',
        'can-i',
        verb,
        resource,
        '-n',
        namespace,
        `--as=${user}`,
        ...(subresource ? [`--subresource=${subresource}`] : []),
      ])
        .then(({ stdout }) => stdout.trim() === 'yes')
        .catch(() => false);
    // The clusterrole-aggregation controller folds our rules into edit/admin/view.
    await eventually('edit aggregates podidentitybindings', async () =>
      (await can('tenant', 'create', 'podidentitybindings.rrsa.dev')) ? true : undefined,
    );
    expect(await can('tenant', 'delete', 'podidentitybindings.rrsa.dev')).toBe(true);
    expect(await can('tenant', 'patch', 'podidentitybindings.rrsa.dev', ns, 'status')).toBe(false);
    expect(await can('tenant', 'get', 'podidentitybindings.rrsa.dev', ns, 'status')).toBe(true);
    await eventually('view aggregates podidentitybindings', async () =>
      (await can('auditor', 'list', 'podidentitybindings.rrsa.dev')) ? true : undefined,
    );
    expect(await can('auditor', 'create', 'podidentitybindings.rrsa.dev')).toBe(false);
    expect(await can('tenant', 'create', 'podidentitybindings.rrsa.dev', 'default')).toBe(false);
  });
});

import * as $Ram from '@alicloud/ram20150501';
import type { PodIdentityBinding } from '../../src/api/types.ts';
import { createSdkClients, type RamClient } from '../../src/cloud/sdk-clients.ts';
import { createNamespace, testControlPlane } from '../support/cluster.ts';
import { eventually, startOperatorEnv, type OperatorEnv } from '../support/operator-env.ts';
import { Tenants } from '../support/tenant.ts';

// Issue 11: the guardrails judge what a Custom policy grants, read from RAM on every pass.
const RESYNC_MS = 2000;
const cp = testControlPlane();
let env: OperatorEnv;
let ram: RamClient;

beforeAll(async () => {
  env = await startOperatorEnv({ resyncMs: RESYNC_MS });
  ram = createSdkClients(
    {
      region: 'cn-hangzhou',
      ram: env.emulator.endpoint,
      sts: env.emulator.endpoint,
      ims: env.emulator.endpoint,
      protocol: 'http',
    },
    env.emulator.rootKey,
  ).ram;
});
afterAll(async () => env?.stop());

const document = (action: string): string =>
  JSON.stringify({ Version: '1', Statement: [{ Effect: 'Allow', Action: action, Resource: '*' }] });

async function createPolicy(name: string, action: string): Promise<void> {
  await ram.createPolicy(
    new $Ram.CreatePolicyRequest({ policyName: name, policyDocument: document(action) }),
  );
}

const tenants = new Tenants(cp.kubeconfigPath);

/** Applied by the namespace's tenant (edit rights there only), as a hostile tenant would. */
async function apply(ns: string, name: string, spec: object): Promise<void> {
  await tenants.applyBinding(ns, name, spec, env.labels);
}

async function readyCondition(ns: string, name: string, reason: string) {
  return eventually(`${ns}/${name} ${reason}`, async () => {
    const b = (await env.admin.custom.getNamespacedCustomObject({
      group: 'rrsa.dev',
      version: 'v1alpha1',
      plural: 'podidentitybindings',
      namespace: ns,
      name,
    })) as PodIdentityBinding;
    const ready = b.status?.conditions?.find((c) => c.type === 'Ready');
    const stalled = b.status?.conditions?.find((c) => c.type === 'Stalled');
    if (b.status?.observedGeneration !== b.metadata.generation || ready?.reason !== reason)
      return undefined;
    return { ready, stalled, status: b.status };
  });
}

/** What RAM holds that a binding could change: roles (tags, trust, policies) and policies. */
const ramState = () => {
  const { roles, policies } = env.emulator.controls.dump();
  return { roles, policies };
};

const ramCallsSince = (seq: number, needle: string, write?: boolean) =>
  env.emulator.controls
    .requests({ since: seq, service: 'ram', ...(write === undefined ? {} : { write }) })
    .filter((r) => JSON.stringify(r.params).includes(needle));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('guardrails on what a Custom policy grants (real apiserver + emulator)', () => {
  it('refuses a Custom admin policy before any RAM write, naming the statement and action', async () => {
    await createPolicy('PlatformAdmin', '*');
    const ns = await createNamespace(cp, 'grd');
    const before = ramState();
    const seq = env.emulator.controls.lastSeq();
    await apply(ns, 'admin', {
      serviceAccountName: 'app',
      createServiceAccount: true,
      role: { policies: [{ type: 'Custom', name: 'PlatformAdmin' }] },
    });
    const { ready, stalled, status } = await readyCondition(ns, 'admin', 'GuardrailViolation');
    expect(ready.message).toBe(
      'spec.role.policies[0]: policy Custom:PlatformAdmin grants * in Statement[0], which covers the privileged action ram:Create* (cluster guardrail --denied-actions): use a narrower policy or ask the cluster admin',
    );
    expect(stalled?.status).toBe('True');
    expect(status?.roleName).toBeUndefined();
    await sleep(RESYNC_MS + 500); // at least one resync pass of the refused binding
    expect(env.emulator.controls.requests({ since: seq, service: 'ram', write: true })).toEqual([]);
    expect(ramState()).toEqual(before);
  });

  it('lets a harmless Custom policy through, and detaches it once it is edited into an admin policy', async () => {
    await createPolicy('BucketReader', 'oss:GetObject');
    const ns = await createNamespace(cp, 'grd');
    await apply(ns, 'reader', {
      serviceAccountName: 'app',
      createServiceAccount: true,
      role: { policies: [{ type: 'Custom', name: 'BucketReader' }] },
    });
    const { status } = await readyCondition(ns, 'reader', 'Bound');
    const roleName = status!.roleName!;
    expect(await env.rootRam.listPoliciesForRole(roleName)).toEqual([
      { type: 'Custom', name: 'BucketReader' },
    ]);

    await ram.createPolicyVersion(
      new $Ram.CreatePolicyVersionRequest({
        policyName: 'BucketReader',
        policyDocument: document('ram:*'),
        setAsDefault: true,
      }),
    );
    const { ready } = await readyCondition(ns, 'reader', 'GuardrailViolation');
    expect(ready.message).toContain(
      'spec.role.policies[0]: policy Custom:BucketReader grants ram:* in Statement[0]',
    );
    expect(await env.rootRam.listPoliciesForRole(roleName)).toEqual([]);
    const events = await eventually('the detach Event', async () => {
      const list = await env.admin.core.listNamespacedEvent({ namespace: ns });
      const found = list.items.filter(
        (e) => e.reason === 'GuardrailViolation' && e.message?.startsWith('detached'),
      );
      return found.length > 0 ? found : undefined;
    });
    expect(events[0]!.type).toBe('Warning');
    expect(events[0]!.message).toContain(
      `detached Custom:BucketReader from role ${roleName}: policy Custom:BucketReader grants ram:*`,
    );
    // Later passes keep it refused and never attach it again.
    const seq = env.emulator.controls.lastSeq();
    await sleep(RESYNC_MS * 2);
    expect(ramCallsSince(seq, roleName, true)).toEqual([]);
    expect(await env.rootRam.listPoliciesForRole(roleName)).toEqual([]);
  });

  it('reports a missing Custom policy as PolicyNotFound without a retry storm', async () => {
    const ns = await createNamespace(cp, 'grd');
    const seq = env.emulator.controls.lastSeq();
    await apply(ns, 'missing', {
      serviceAccountName: 'app',
      createServiceAccount: true,
      role: { policies: [{ type: 'Custom', name: 'NoSuchPolicy' }] },
    });
    const { ready, stalled } = await readyCondition(ns, 'missing', 'PolicyNotFound');
    expect(ready.message).toContain(
      'spec.role.policies[0]: policy Custom:NoSuchPolicy does not exist in RAM',
    );
    expect(stalled?.status).toBe('True');
    await sleep(5000);
    const calls = [...ramCallsSince(seq, ns), ...ramCallsSince(seq, 'NoSuchPolicy')];
    expect(calls.length).toBeLessThanOrEqual(10);
    expect(calls.filter((c) => c.write)).toEqual([]);
  });

  it('stalls on a System policy RAM does not know, instead of retrying it as transient', async () => {
    const ns = await createNamespace(cp, 'grd');
    const seq = env.emulator.controls.lastSeq();
    await apply(ns, 'nosys', {
      serviceAccountName: 'app',
      createServiceAccount: true,
      role: { policies: [{ type: 'System', name: 'AliyunNoSuchAccess' }] },
    });
    const { ready, stalled } = await readyCondition(ns, 'nosys', 'CloudRequestRejected');
    expect(ready.message).toContain('AttachPolicyToRole failed: EntityNotExist.Policy');
    expect(ready.message).not.toContain('request id');
    expect(stalled?.status).toBe('True');
    await sleep(5000);
    const attaches = ramCallsSince(seq, 'AliyunNoSuchAccess').filter(
      (c) => c.action === 'AttachPolicyToRole',
    );
    expect(attaches.length).toBeLessThanOrEqual(4); // one per resync, not a backoff loop
  });

  it('keeps a retrying condition message stable across retries; the Event carries the request id', async () => {
    const ns = await createNamespace(cp, 'grd');
    const rule = env.emulator.controls.faults.add({
      service: 'ram',
      action: 'AttachPolicyToRole',
      code: 'InternalError',
      status: 500,
    });
    try {
      await apply(ns, 'flaky', {
        serviceAccountName: 'app',
        createServiceAccount: true,
        role: { policies: [{ type: 'System', name: 'AliyunOSSReadOnlyAccess' }] },
      });
      const first = await readyCondition(ns, 'flaky', 'CloudRetrying');
      const firedBefore = rule.fired;
      await eventually('more retries', () => (rule.fired >= firedBefore + 3 ? true : undefined));
      const later = await readyCondition(ns, 'flaky', 'CloudRetrying');
      expect(first.ready.message).toContain('AttachPolicyToRole failed: InternalError');
      expect(first.ready.message).not.toContain('request id');
      expect(later.ready.message).toBe(first.ready.message);
      expect(later.ready.lastTransitionTime).toBe(first.ready.lastTransitionTime);
      const event = await eventually('the CloudRetrying Event', async () => {
        const list = await env.admin.core.listNamespacedEvent({ namespace: ns });
        return list.items.find((e) => e.reason === 'CloudRetrying');
      });
      expect(event.message).toMatch(
        /AttachPolicyToRole failed: InternalError \(request id [^)]+\)/,
      );
    } finally {
      env.emulator.controls.faults.remove(rule.id);
    }
    await readyCondition(ns, 'flaky', 'Bound');
  });
});

import * as $Ram from '@alicloud/ram20150501';
import type { PodIdentityBinding } from '../../src/api/types.ts';
import { samePolicyDocument } from '../../src/identity/inline-policy.ts';
import { createSdkClients, type RamClient } from '../../src/cloud/sdk-clients.ts';
import { createNamespace, testControlPlane } from '../support/cluster.ts';
import { eventually, startOperatorEnv, type OperatorEnv } from '../support/operator-env.ts';
import { Tenants } from '../support/tenant.ts';

// Issue 15 A: inline policies through the real apiserver, the real SDK and the emulator.
const RESYNC_MS = 2000;
const cp = testControlPlane();
let env: OperatorEnv;
let ram: RamClient;
const tenants = new Tenants(cp.kubeconfigPath);

beforeAll(async () => {
  env = await startOperatorEnv({ resyncMs: RESYNC_MS });
  ram = createSdkClients(
    { region: 'cn-hangzhou', ram: env.emulator.endpoint, protocol: 'http' },
    env.emulator.rootKey,
  ).ram;
});
afterAll(async () => env?.stop());

const doc = (action: string) => ({
  Version: '1',
  Statement: [{ Effect: 'Allow', Action: [action], Resource: 'acs:oss:*:*:reports/*' }],
});

async function binding(ns: string, name: string): Promise<PodIdentityBinding> {
  return (await env.admin.custom.getNamespacedCustomObject({
    group: 'rrsa.dev',
    version: 'v1alpha1',
    plural: 'podidentitybindings',
    namespace: ns,
    name,
  })) as PodIdentityBinding;
}

async function settled(
  ns: string,
  name: string,
  reason: string,
  check = (_b: PodIdentityBinding) => true,
) {
  return eventually(`${ns}/${name} ${reason}`, async () => {
    const b = await binding(ns, name);
    const ready = b.status?.conditions?.find((c) => c.type === 'Ready');
    if (b.status?.observedGeneration !== b.metadata.generation || ready?.reason !== reason)
      return undefined;
    return check(b) ? { b, ready } : undefined;
  });
}

const defaultDocument = async (policyName: string) =>
  (await env.rootRam.getCustomPolicy(policyName))?.document ?? '';

describe('inline policies (real apiserver + emulator)', () => {
  it('creates, updates, repairs drift of and deletes an owned Custom policy', async () => {
    const ns = await createNamespace(cp, 'inl');
    const spec = (action: string) => ({
      serviceAccountName: 'app',
      createServiceAccount: true,
      role: { inlinePolicies: [{ name: 'reports', document: doc(action) }] },
    });
    await tenants.applyBinding(ns, 'app', spec('oss:GetObject'), env.labels);
    const { b } = await settled(ns, 'app', 'Bound');
    const [inline] = b.status!.inlinePolicies!;
    expect(inline).toMatchObject({ name: 'reports', defaultVersion: 'v1' });
    const policyName = inline!.policyName;
    expect(await env.rootRam.listPoliciesForRole(b.status!.roleName!)).toContainEqual({
      type: 'Custom',
      name: policyName,
    });
    expect(await env.rootRam.listPolicyTags(policyName)).toMatchObject({
      'rrsa.dev/managed-by': 'rrsa-operator',
      'rrsa.dev/namespace': ns,
      'rrsa.dev/binding': 'app',
    });

    // A resync of an unchanged document writes nothing to RAM.
    let seq = env.emulator.controls.lastSeq();
    await new Promise((r) => setTimeout(r, RESYNC_MS + 500));
    expect(env.emulator.controls.requests({ since: seq, service: 'ram', write: true })).toEqual([]);

    await tenants.applyBinding(ns, 'app', spec('oss:ListObjects'), env.labels);
    await settled(
      ns,
      'app',
      'Bound',
      (x) => x.status?.inlinePolicies?.[0]?.defaultVersion === 'v2',
    );
    expect(samePolicyDocument(await defaultDocument(policyName), doc('oss:ListObjects'))).toBe(
      true,
    );

    // Drift: someone makes a wider version the default; the next resync sets ours back.
    await ram.createPolicyVersion(
      new $Ram.CreatePolicyVersionRequest({
        policyName,
        policyDocument: JSON.stringify(doc('oss:*')),
        setAsDefault: true,
      }),
    );
    await eventually(
      'drift repaired',
      async () =>
        samePolicyDocument(await defaultDocument(policyName), doc('oss:ListObjects')) || undefined,
    );

    seq = env.emulator.controls.lastSeq();
    await env.admin.custom.deleteNamespacedCustomObject({
      group: 'rrsa.dev',
      version: 'v1alpha1',
      plural: 'podidentitybindings',
      namespace: ns,
      name: 'app',
    });
    await eventually(
      'policy deleted',
      async () => (await env.rootRam.getCustomPolicy(policyName)) === undefined || undefined,
    );
    const actions = env.emulator.controls
      .requests({ since: seq, service: 'ram', write: true })
      .map((r) => r.action);
    expect(actions.indexOf('DeletePolicyVersion')).toBeLessThan(actions.indexOf('DeletePolicy'));
    expect(actions.indexOf('DetachPolicyFromRole')).toBeLessThan(actions.indexOf('DeletePolicy'));
  });

  it('refuses a privileged inline document with nothing written to RAM', async () => {
    const ns = await createNamespace(cp, 'inl');
    const seq = env.emulator.controls.lastSeq();
    await tenants.applyBinding(
      ns,
      'admin',
      {
        serviceAccountName: 'app',
        createServiceAccount: true,
        role: {
          inlinePolicies: [
            {
              name: 'all',
              document: {
                Version: '1',
                Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
              },
            },
          ],
        },
      },
      env.labels,
    );
    const { ready } = await settled(ns, 'admin', 'GuardrailViolation');
    expect(ready.message).toContain(
      'spec.role.inlinePolicies[0]: inline policy all grants * in Statement[0], which covers the privileged action ram:Create*',
    );
    expect(env.emulator.controls.requests({ since: seq, service: 'ram', write: true })).toEqual([]);
  });
});

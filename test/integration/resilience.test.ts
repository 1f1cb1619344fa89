import { startRrsaEmulator } from '../support/cluster.ts';
import type { PodIdentityBinding } from '../../src/api/types.ts';
import { AlibabaRam } from '../../src/cloud/alibaba-ram.ts';
import { createSdkClients } from '../../src/cloud/sdk-clients.ts';
import { kubectl } from '../../devenv/kubectl.ts';
import { type RunningEmulator as Emulator } from '@rrsa-operator/alibaba-cloud-emulator';
import { ownedTrustDocument, sameJson } from '../../src/identity/trust-policy.ts';
import { createKubeClients, loadKubeConfig } from '../../src/kube/client.ts';
import { createNamespace, testControlPlane, uniqueName } from '../support/cluster.ts';
import { spawnManager, type ManagerProcess } from '../support/manager-process.ts';
import { eventually } from '../support/operator-env.ts';

const cp = testControlPlane();
const admin = createKubeClients(loadKubeConfig(cp.kubeconfigPath));
const SOAK_MS = Number(process.env.RRSA_SOAK_MS ?? 25_000);
let emulator: Emulator;
let ram: AlibabaRam;
const clusterId = uniqueName('soak');
const replicas: ManagerProcess[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  emulator = await startRrsaEmulator(cp, clusterId);
  ram = new AlibabaRam(
    createSdkClients(
      {
        region: 'cn-hangzhou',
        ram: emulator.endpoint,
        sts: emulator.endpoint,
        ims: emulator.endpoint,
        protocol: 'http',
      },
      emulator.rootKey,
    ).ram,
  );
});
afterAll(async () => {
  for (const r of replicas) if (r.child.exitCode === null) r.child.kill('SIGKILL');
  await emulator?.stop();
});

async function listBindings(ns: string): Promise<PodIdentityBinding[]> {
  const list = (await admin.custom.listNamespacedCustomObject({
    group: 'rrsa.dev',
    version: 'v1alpha1',
    plural: 'podidentitybindings',
    namespace: ns,
  })) as { items: PodIdentityBinding[] };
  return list.items;
}

/** Every role tagged with this cluster, by name. */
function clusterRoles(): string[] {
  return emulator.controls
    .dump()
    .roles.filter((r) => r.tags['rrsa.dev/cluster-id'] === clusterId)
    .map((r) => r.roleName);
}

describe('resilience: faults and SIGKILLed leaders while bindings change', () => {
  it(
    'converges to the invariants once faults stop',
    async () => {
      const leaseNamespace = await createNamespace(cp, 'soak-lease');
      const ns = await createNamespace(cp, 'soak');
      const spawn = async () => {
        const r = await spawnManager({
          emulator,
          clusterId,
          leaseNamespace,
          env: { RRSA_LEASE_DURATION: '2s' },
        });
        replicas.push(r);
        return r;
      };
      let live = [await spawn(), await spawn()];
      const faults = [
        emulator.controls.faults.add({
          service: 'ram',
          code: 'Throttling.User',
          rate: 0.3,
          retryAfterMs: 150,
        }),
        emulator.controls.faults.add({ service: 'ram', code: 'ServiceUnavailable', rate: 0.05 }),
        emulator.controls.faults.add({ service: 'ram', latencyMs: 20 }),
      ];
      const policies = ['AliyunOSSReadOnlyAccess', 'AliyunCSReadOnlyAccess'];
      const apply = (i: number, policy: string) =>
        kubectl(cp.kubeconfigPath, ['apply', '-f', '-'], {
          input: JSON.stringify({
            apiVersion: 'rrsa.dev/v1alpha1',
            kind: 'PodIdentityBinding',
            metadata: { name: `b${i}`, namespace: ns, labels: { 'rrsa.dev/test-env': clusterId } },
            spec: {
              serviceAccountName: `sa${i}`,
              createServiceAccount: true,
              role: { policies: [{ type: 'System', name: policy }] },
            },
          }),
        });
      const started = Date.now();
      let step = 0;
      let kills = 0;
      while (Date.now() - started < SOAK_MS) {
        const i = step % 12;
        const action = Math.floor(step / 12) % 3;
        if (action === 2 && i % 3 === 0)
          await kubectl(cp.kubeconfigPath, [
            'delete',
            'pib',
            `b${i}`,
            '-n',
            ns,
            '--wait=false',
            '--ignore-not-found',
          ]);
        else await apply(i, policies[(step + i) % 2]!);
        step++;
        if (step % 8 === 0) {
          const victim = live.find((r) => r.output().includes('became leader')) ?? live[0]!;
          victim.child.kill('SIGKILL');
          kills++;
          live = [...live.filter((r) => r !== victim), await spawn()];
        }
        await sleep(150);
      }
      for (const f of faults) emulator.controls.faults.remove(f.id);
      const faultsStopped = Date.now();

      // Invariants, within a bounded time after the faults stop.
      const bindings = await eventually(
        'every binding Ready and RAM matching',
        async () => {
          const items = await listBindings(ns);
          if (items.some((b) => b.metadata.deletionTimestamp)) return undefined;
          for (const b of items) {
            const status = b.status;
            const ready = status?.conditions?.find((c) => c.type === 'Ready');
            if (!status || status.observedGeneration !== b.metadata.generation) return undefined;
            if (ready?.status !== 'True') return undefined;
            const role = await ram.getRole(status.roleName!);
            const target = {
              providerArn: status.oidcProviderArn!,
              issuer: cp.issuer,
              namespace: ns,
              serviceAccount: b.spec.serviceAccountName,
            };
            if (!role || !sameJson(JSON.parse(role.trustPolicy), ownedTrustDocument(target)))
              return undefined;
            const attached = await ram.listPoliciesForRole(role.name);
            if (!sameJson(attached, b.spec.role?.policies ?? [])) return undefined;
          }
          return items;
        },
        90_000,
      );
      const convergedMs = Date.now() - faultsStopped;
      const live_roles = new Set(bindings.map((b) => b.status!.roleName!));
      // No orphan, no duplicate. Orphans get a moment: a binding deleted at the very end may still
      // be finishing its finalizer when the survivors are all Ready.
      await eventually(
        'no orphaned role',
        () => (clusterRoles().length === live_roles.size ? true : undefined),
        30_000,
      ).catch(() => undefined);
      if (clusterRoles().length !== live_roles.size)
        process.stderr.write(
          `soak diagnostics: bindings ${JSON.stringify(bindings.map((b) => [b.metadata.name, b.status?.roleName]))}; requests for extra roles: ${JSON.stringify(
            emulator.controls
              .requests({ service: 'ram', write: true })
              .filter((r) =>
                clusterRoles()
                  .filter((n) => !live_roles.has(n))
                  .some((n) => JSON.stringify(r.params).includes(n)),
              )
              .map((r) => [r.action, r.code, r.params.RoleName]),
          )}\n`,
        );
      expect(clusterRoles().sort()).toEqual([...live_roles].sort());
      for (const b of bindings) {
        const role = await ram.getRole(b.status!.roleName!);
        expect((JSON.parse(role!.trustPolicy) as { Statement: unknown[] }).Statement).toHaveLength(
          1,
        );
      }
      const sas = await admin.core.listNamespacedServiceAccount({ namespace: ns });
      for (const sa of sas.items) {
        const named = sa.metadata?.annotations?.['pod-identity.alibabacloud.com/role-name'];
        if (named) expect(live_roles.has(named)).toBe(true); // never a deleted role
      }
      process.stderr.write(
        `soak: ${step} changes, ${kills} leader SIGKILLs, ${bindings.length} bindings, converged ${convergedMs} ms after faults stopped\n`,
      );
      expect(kills).toBeGreaterThan(0);
    },
    SOAK_MS + 215_000,
  );
});

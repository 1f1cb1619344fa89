import type { PodIdentityBinding } from '../../src/api/types.ts';
import { AlibabaRam } from '../../src/cloud/alibaba-ram.ts';
import { createSdkClients } from '../../src/cloud/sdk-clients.ts';
import { BindingController } from '../../src/controller/controller.ts';
import { startControlPlane, type ControlPlane } from '../../devenv/controlplane.ts';
import { installCrds, kubectl } from '../../devenv/kubectl.ts';
import {
  start as startEmulator,
  type RunningEmulator as Emulator,
} from '@rrsa-operator/alibaba-cloud-emulator';
import { DEFAULT_GUARDRAILS } from '../../src/identity/guardrails.ts';
import { createKubeClients, loadKubeConfig } from '../../src/kube/client.ts';
import { KubeEventSink } from '../../src/kube/events.ts';
import { createLogger } from '../../src/runtime/logger.ts';
import { defaultInjectionConfig } from '../../src/webhook/config.ts';
import { eventually } from '../support/operator-env.ts';

// A control plane of its own: restarting the shared one would disturb every other test file.
let cp: ControlPlane;
let emulator: Emulator;
let controller: BindingController;

beforeAll(async () => {
  cp = await startControlPlane();
  await installCrds(cp.kubeconfigPath, 'crds');
  emulator = await startEmulator({ seed: 'restart' });
  const kube = createKubeClients(loadKubeConfig(cp.kubeconfigPath));
  const sdk = createSdkClients(
    {
      region: 'cn-hangzhou',
      ram: emulator.endpoint,
      sts: emulator.endpoint,
      ims: emulator.endpoint,
      protocol: 'http',
    },
    emulator.rootKey,
  );
  controller = new BindingController({
    kube,
    cluster: {
      clusterId: 'restart',
      accountId: emulator.accountId,
      oidcProviderArn: `acs:ram::${emulator.accountId}:oidc-provider/ack-rrsa-restart`,
      issuerUrl: cp.issuer,
      roleNamePrefix: 'rrsa-',
    },
    guardrails: DEFAULT_GUARDRAILS,
    ram: new AlibabaRam(sdk.ram),
    events: new KubeEventSink(kube.rest),
    logger: createLogger('error', true),
    resyncMs: 600_000, // no resync to the rescue: only watch events can deliver the change
    concurrency: 2,
    backoff: { baseMs: 50, maxMs: 2000 },
    // The pod informer (a projecting watch, src/kube/pods.ts) must recover too.
    podChecks: {
      injection: defaultInjectionConfig({ accountId: emulator.accountId, clusterId: 'restart' }),
      allowPodRestart: false,
    },
  });
  await controller.start();
});
afterAll(async () => {
  await controller?.stop();
  await emulator?.stop();
  await cp?.stop();
});

const apply = (object: object) =>
  kubectl(cp.kubeconfigPath, ['apply', '-f', '-'], { input: JSON.stringify(object) });
const binding = (name: string, policies: string[]) => ({
  apiVersion: 'rrsa.dev/v1alpha1',
  kind: 'PodIdentityBinding',
  metadata: { name, namespace: 'default' },
  spec: {
    serviceAccountName: name,
    createServiceAccount: true,
    role: { policies: policies.map((p) => ({ type: 'System', name: p })) },
  },
});

async function ready(name: string, policies: number): Promise<PodIdentityBinding> {
  return eventually(
    `${name} Ready with ${policies} policies`,
    async () => {
      const { stdout } = await kubectl(cp.kubeconfigPath, [
        'get',
        'pib',
        name,
        '-n',
        'default',
        '-o',
        'json',
      ]);
      const b = JSON.parse(stdout) as PodIdentityBinding;
      const isReady = b.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
      return isReady &&
        b.status?.observedGeneration === b.metadata.generation &&
        b.status?.attachedPolicies?.length === policies
        ? b
        : undefined;
    },
    60_000,
  );
}

describe('the apiserver restarted under the operator', () => {
  it('informers recover and changes made while the watch was down are reconciled', async () => {
    await apply(binding('before', ['AliyunOSSReadOnlyAccess']));
    await ready('before', 1);
    await cp.restartApiServer();
    // Right after the restart, before the operator's watches have come back.
    await apply(binding('before', ['AliyunOSSReadOnlyAccess', 'AliyunCSReadOnlyAccess']));
    await apply(binding('during', ['AliyunOSSReadOnlyAccess']));
    const changed = await ready('before', 2);
    const created = await ready('during', 1);
    expect(
      await new AlibabaRam(
        createSdkClients(
          { region: 'cn-hangzhou', ram: emulator.endpoint, protocol: 'http' },
          emulator.rootKey,
        ).ram,
      ).listPoliciesForRole(changed.status!.roleName!),
    ).toHaveLength(2);
    expect(created.status?.roleName).toBeDefined();
    // A pod created after the restart reaches the pod checks only through the new pod watch
    // (namespace default is not labelled for injection, so the pod is current without env).
    await apply({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'after-restart', namespace: 'default' },
      spec: { serviceAccountName: 'during', containers: [{ name: 'app', image: 'app:1' }] },
    });
    await eventually('the pod seen after the restart', async () => {
      const { stdout } = await kubectl(cp.kubeconfigPath, [
        'get',
        'pib',
        'during',
        '-n',
        'default',
        '-o',
        'jsonpath={.status.pods.current}/{.status.pods.total}',
      ]);
      return stdout === '1/1' ? true : undefined;
    });
    expect(controller.hasSynced()).toBe(true);
  });
});

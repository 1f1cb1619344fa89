import { startTestWebhook } from '../support/test-webhook.ts';
import { Registry } from 'prom-client';
import { waitFor } from '../../devenv/kube-http.ts';
import { kubectl } from '../../devenv/kubectl.ts';
import { uninstallWebhook, waitForInjection } from '../../devenv/webhook.ts';
import { type PodIdentityWebhook } from '../../src/kube/webhook-wiring.ts';
import { defaultInjectionConfig } from '../../src/webhook/config.ts';
import { uniqueName, testControlPlane } from '../support/cluster.ts';

// The apiserver itself calls the admission server (in this process, on 127.0.0.1) over TLS with
// a CA it only knows from the MutatingWebhookConfiguration shipped in config/webhook. The
// configuration is cluster-scoped, so it gets a unique name and a namespaceSelector on this
// file's run label: other test files sharing the control plane never see it.

// testTimeout in a jest project entry is not applied (it is a global option): set it here.
jest.setTimeout(120_000);

const cp = testControlPlane();
const RUN_LABEL = 'rrsa-webhook-test';
const run = uniqueName('run');
const INJECTION = 'pod-identity.alibabacloud.com/injection';
const ROLE = 'pod-identity.alibabacloud.com/role-name';

const config = defaultInjectionConfig({
  accountId: '1234567890123456',
  clusterId: 'c0123456789abcdef0123456789abcdef',
  stsEnv: { enabled: true, region: 'cn-hangzhou', vpcEndpoint: true },
});

// The contract (DESIGN.md "Pod injection"), as `kubectl get pod -o yaml` must show it.
const expectedEnv = (role: string): { name: string; value: string }[] => [
  { name: 'ALIBABA_CLOUD_ROLE_ARN', value: `acs:ram::1234567890123456:role/${role}` },
  {
    name: 'ALIBABA_CLOUD_OIDC_PROVIDER_ARN',
    value: 'acs:ram::1234567890123456:oidc-provider/ack-rrsa-c0123456789abcdef0123456789abcdef',
  },
  {
    name: 'ALIBABA_CLOUD_OIDC_TOKEN_FILE',
    value: '/var/run/secrets/ack.alibabacloud.com/rrsa-tokens/token',
  },
  { name: 'ALIBABA_CLOUD_STS_ENDPOINT', value: 'sts-vpc.cn-hangzhou.aliyuncs.com' },
  { name: 'ALIBABA_CLOUD_STS_REGION', value: 'cn-hangzhou' },
  { name: 'ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED', value: 'true' },
];
const expectedVolume = {
  name: 'rrsa-oidc-token',
  projected: {
    defaultMode: 420,
    sources: [
      {
        serviceAccountToken: {
          audience: 'sts.aliyuncs.com',
          expirationSeconds: 3600,
          path: 'token',
        },
      },
    ],
  },
};
const expectedMount = {
  name: 'rrsa-oidc-token',
  mountPath: '/var/run/secrets/ack.alibabacloud.com/rrsa-tokens',
  readOnly: true,
};

interface StoredPod {
  metadata: { name: string; labels?: Record<string, string> };
  spec: {
    containers: { name: string; env?: unknown[]; volumeMounts?: { name: string }[] }[];
    volumes?: { name: string }[];
  };
}

const k = async (args: string[], input?: string): Promise<string> =>
  (await kubectl(cp.kubeconfigPath, args, input === undefined ? {} : { input })).stdout;

async function getPod(namespace: string, name: string): Promise<StoredPod> {
  return JSON.parse(await k(['get', 'pod', name, '-n', namespace, '-o', 'json'])) as StoredPod;
}

function namespaceYaml(name: string, inject: boolean): string {
  return `apiVersion: v1
kind: Namespace
metadata:
  name: ${name}
  labels:
    ${RUN_LABEL}: ${run}
${inject ? `    ${INJECTION}: 'on'\n` : ''}`;
}

function serviceAccountYaml(namespace: string, name: string, role: string): string {
  return `apiVersion: v1
kind: ServiceAccount
metadata:
  name: ${name}
  namespace: ${namespace}
  annotations:
    ${ROLE}: ${role}
`;
}

function podYaml(namespace: string, name: string, sa: string, labels = ''): string {
  return `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  namespace: ${namespace}
${labels ? `  labels:\n    ${labels}\n` : ''}spec:
  serviceAccountName: ${sa}
  containers:
    - name: ${name}
      image: registry.cn-hangzhou.aliyuncs.com/acs/ack-ram-tool:1.0.0
      imagePullPolicy: Always
      args: [rrsa, demo]
`;
}

function expectInjected(pod: StoredPod, role: string): void {
  for (const container of pod.spec.containers) {
    expect(container.env).toEqual(expectedEnv(role));
    expect(container.volumeMounts?.filter((m) => m.name === 'rrsa-oidc-token')).toEqual([
      expectedMount,
    ]);
  }
  expect(pod.spec.volumes?.filter((v) => v.name === 'rrsa-oidc-token')).toEqual([expectedVolume]);
}

function expectUntouched(pod: StoredPod): void {
  for (const container of pod.spec.containers) {
    expect(container.env).toBeUndefined();
    expect(container.volumeMounts?.some((m) => m.name === 'rrsa-oidc-token')).toBe(false);
  }
  expect(pod.spec.volumes?.some((v) => v.name === 'rrsa-oidc-token')).toBe(false);
}

describe('pod identity webhook called by the real apiserver', () => {
  const webhookName = uniqueName('rrsa-webhook-test');
  const namespaces: string[] = [];
  const registry = new Registry();
  let webhook: PodIdentityWebhook;

  const newNamespace = async (prefix: string, inject: boolean, extra = ''): Promise<string> => {
    const name = uniqueName(prefix);
    namespaces.push(name);
    await k(['apply', '-f', '-'], namespaceYaml(name, inject) + extra);
    return name;
  };

  beforeAll(async () => {
    // The manager's own wiring, with operator-managed certificates: the apiserver trusts the
    // webhook only through the caBundle the operator writes into the configuration.
    const operatorNs = await newNamespace('rrsa-operator', false);
    webhook = await startTestWebhook({
      kubeconfigPath: cp.kubeconfigPath,
      webhookName,
      namespaceLabels: { [RUN_LABEL]: run },
      operatorNamespace: operatorNs,
      injection: config,
      registry,
    });
    expect(webhook.server.isReady()).toBe(true);
    const probeNs = await newNamespace('rrsa-probe', true);
    await k(['apply', '-f', '-'], serviceAccountYaml(probeNs, 'probe', 'probe-role'));
    await waitForInjection(cp.kubeconfigPath, { namespace: probeNs, serviceAccountName: 'probe' });
  });

  afterAll(async () => {
    await uninstallWebhook(cp.kubeconfigPath, webhookName);
    if (namespaces.length > 0) await k(['delete', 'namespace', ...namespaces, '--wait=false']);
    await webhook?.stop();
  });

  it('injects the ACK demo (namespace, ServiceAccount and pod in one apply) exactly per the contract', async () => {
    const ns = uniqueName('rrsa-demo');
    namespaces.push(ns);
    await k(
      ['apply', '-f', '-'],
      [
        namespaceYaml(ns, true),
        serviceAccountYaml(ns, 'demo-sa', 'ack-pod-identity-webhook-demo'),
        podYaml(ns, 'demo', 'demo-sa'),
      ].join('---\n'),
    );
    const pod = await getPod(ns, 'demo');
    expectInjected(pod, 'ack-pod-identity-webhook-demo');
    // The ServiceAccount admission plugin's own token volume is still there, untouched.
    expect(pod.spec.volumes?.map((v) => v.name)).toEqual([
      expect.stringMatching(/^kube-api-access-/),
      'rrsa-oidc-token',
    ]);
  });

  it('injects a pod whose ServiceAccount is created in the same kubectl apply, in an existing namespace', async () => {
    const ns = await newNamespace('rrsa-race', true);
    for (let i = 0; i < 3; i++) {
      await k(
        ['apply', '-f', '-'],
        [serviceAccountYaml(ns, `sa-${i}`, `role-${i}`), podYaml(ns, `app-${i}`, `sa-${i}`)].join(
          '---\n',
        ),
      );
      expectInjected(await getPod(ns, `app-${i}`), `role-${i}`);
    }
  });

  it('leaves a pod in an unlabelled namespace untouched, and injects one there that has the pod label', async () => {
    const ns = await newNamespace('rrsa-plain', false);
    await k(
      ['apply', '-f', '-'],
      [
        serviceAccountYaml(ns, 'app-sa', 'app-role'),
        podYaml(ns, 'plain', 'app-sa'),
        podYaml(ns, 'opted-in', 'app-sa', `${INJECTION}: 'on'`),
      ].join('---\n'),
    );
    expectUntouched(await getPod(ns, 'plain'));
    expectInjected(await getPod(ns, 'opted-in'), 'app-role');
  });

  it('leaves a pod labelled injection=off, or in a namespace labelled rrsa.dev/webhook=skip, untouched', async () => {
    const ns = await newNamespace('rrsa-optout', true);
    await k(
      ['apply', '-f', '-'],
      [
        serviceAccountYaml(ns, 'app-sa', 'app-role'),
        podYaml(ns, 'opted-out', 'app-sa', `${INJECTION}: 'off'`),
      ].join('---\n'),
    );
    expectUntouched(await getPod(ns, 'opted-out'));
    const skipped = await newNamespace('rrsa-skip', true);
    await k(['label', 'namespace', skipped, 'rrsa.dev/webhook=skip']);
    await k(
      ['apply', '-f', '-'],
      [
        serviceAccountYaml(skipped, 'app-sa', 'app-role'),
        podYaml(skipped, 'app', 'app-sa', `${INJECTION}: 'on'`),
      ].join('---\n'),
    );
    expectUntouched(await getPod(skipped, 'app'));
  });

  it("injects a Deployment's pods (created by the ReplicaSet controller)", async () => {
    const ns = await newNamespace('rrsa-deploy', true);
    await k(
      ['apply', '-f', '-'],
      `${serviceAccountYaml(ns, 'web', 'web-role')}---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: ${ns} }
spec:
  replicas: 2
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      serviceAccountName: web
      containers:
        - { name: web, image: 'nginx:1', ports: [{ containerPort: 80 }] }
        - { name: sidecar, image: 'busybox:1', args: [sleep, infinity] }
`,
    );
    const pods = await waitFor(
      'two pods of the Deployment',
      async () => {
        const list = JSON.parse(
          await k(['get', 'pods', '-n', ns, '-l', 'app=web', '-o', 'json']),
        ) as { items: StoredPod[] };
        return list.items.length === 2 ? list.items : undefined;
      },
      60_000,
      500,
    );
    for (const pod of pods) expectInjected(pod, 'web-role');
    const metrics = await registry.metrics();
    expect(metrics).toMatch(/rrsa_webhook_admissions_total\{outcome="Injected"\} ([5-9]|\d\d+)/);
  });
});

// The install path for real (issue 14): the Dockerfile's image built with buildah, the operator
// installed with `kubectl apply -k config/overlays/local-node` onto a real node (kubelet +
// containerd + CNI bridge), and the ACK demo pod's signed call through the kubelet-projected
// token, then its 403 once the policy leaves the binding. Needs root (the node); see
// docs/adr/0012-local-node.md.
import { join } from 'node:path';
import { startLocalCluster, type LocalCluster } from '../../devenv/local-node.ts';
import { runDemo, type DemoOutcome } from '../../devenv/local-node-demo.ts';

const repoRoot = join(__dirname, '..', '..');
let cluster: LocalCluster;
let demo: DemoOutcome;

beforeAll(async () => {
  cluster = await startLocalCluster({ repoRoot });
  demo = await runDemo(cluster, repoRoot);
}, 900_000);

afterAll(async () => {
  await cluster?.stop();
}, 120_000);

interface PodList {
  items: {
    metadata: { name: string };
    spec: {
      nodeName: string;
      securityContext: { runAsNonRoot?: boolean };
      containers: { image: string; securityContext: { readOnlyRootFilesystem?: boolean } }[];
    };
    status: { conditions: { type: string; status: string }[] };
  }[];
}

test('the operator runs as two non-root, read-only pods of the locally built image on the node', async () => {
  const pods = JSON.parse(
    await cluster.kubectl(['-n', 'rrsa-system', 'get', 'pods', '-o', 'json']),
  ) as PodList;
  expect(pods.items).toHaveLength(2);
  for (const pod of pods.items) {
    expect(pod.spec.nodeName).toBe(cluster.node.name);
    expect(pod.spec.securityContext.runAsNonRoot).toBe(true);
    expect(pod.spec.containers[0]?.image).toBe('localhost/rrsa-operator:dev');
    expect(pod.spec.containers[0]?.securityContext.readOnlyRootFilesystem).toBe(true);
    expect(pod.status.conditions.find((c) => c.type === 'Ready')?.status).toBe('True');
  }
  // Leader election across the replicas: exactly one holds the Lease, and it is one of them.
  const holder = await cluster.kubectl([
    '-n',
    'rrsa-system',
    'get',
    'lease',
    '-o',
    'jsonpath={.items[*].spec.holderIdentity}',
  ]);
  // The identity is `<pod name>_<random>` (a restarted process never inherits its old term).
  expect(pods.items.map((p) => p.metadata.name)).toContain(holder.trim().split('_')[0]);
});

test('the operator authenticates to the cloud with its own RRSA token (no AccessKey anywhere)', () => {
  const calls = cluster.emulator.controls.requests();
  const exchanges = calls.filter((r) => r.action === 'AssumeRoleWithOIDC' && r.status === 200);
  expect(exchanges.length).toBeGreaterThan(0);
  // Every RAM write came from an STS session, not from the account's root key.
  const writes = calls.filter((r) => r.write && r.caller !== 'account');
  expect(writes.map((r) => r.action)).toEqual(expect.arrayContaining(['CreateRole']));
});

test('the demo pod gets exactly the injected RRSA env and makes a signed call with it', () => {
  expect(demo.env).toEqual(
    expect.arrayContaining([
      'ALIBABA_CLOUD_ROLE_ARN',
      'ALIBABA_CLOUD_OIDC_PROVIDER_ARN',
      'ALIBABA_CLOUD_OIDC_TOKEN_FILE',
    ]),
  );
  expect(demo.allowed).toMatchObject({ ok: true });
  expect(String(demo.allowed.accessKeyId)).toMatch(/^STS\./);
});

test('kubectl logs shows the 403 once the policy has left the binding', () => {
  expect(demo.denied).toMatchObject({ ok: false, statusCode: 403, code: 'NoPermission' });
  expect(demo.logs).toContain('"ok":false');
});

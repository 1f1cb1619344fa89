import { startRrsaEmulator } from '../support/cluster.ts';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createCertificateAuthority, issueCertificate } from '../../src/webhook/certs/pki.ts';
import { findFreePort } from '../../devenv/ports.ts';
import { podCreateReview } from '../../devenv/admission-review.ts';
import { httpsRequest } from '../../devenv/kube-http.ts';
import { spawnManager, type ManagerProcess } from '../support/manager-process.ts';
import { join } from 'node:path';
import { kubectl } from '../../devenv/kubectl.ts';
import { type RunningEmulator as Emulator } from '@rrsa-operator/alibaba-cloud-emulator';
import { createNamespace, testControlPlane, uniqueName } from '../support/cluster.ts';
import { eventually } from '../support/operator-env.ts';

const cp = testControlPlane();
let emulator: Emulator;
const clusterId = uniqueName('mgr');
let leaseNamespace: string;
const processes: ChildProcess[] = [];

async function startReplica(): Promise<ManagerProcess> {
  const replica = await spawnManager({ emulator, clusterId, leaseNamespace });
  processes.push(replica.child);
  return replica;
}

async function ready(ns: string, name: string): Promise<boolean> {
  const { stdout } = await kubectl(cp.kubeconfigPath, [
    'get',
    'pib',
    name,
    '-n',
    ns,
    '-o',
    'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
  ]);
  return stdout === 'True';
}

/** Applies a binding of this test's operators (its ServiceAccount created) and waits for Ready. */
async function applyReadyBinding(ns: string, name: string): Promise<void> {
  await kubectl(cp.kubeconfigPath, ['apply', '-f', '-'], {
    input: JSON.stringify({
      apiVersion: 'rrsa.dev/v1alpha1',
      kind: 'PodIdentityBinding',
      metadata: { name, namespace: ns, labels: { 'rrsa.dev/test-env': clusterId } },
      spec: { serviceAccountName: name, createServiceAccount: true },
    }),
  });
  await eventually(
    `binding ${name} Ready`,
    async () => ((await ready(ns, name)) ? true : undefined),
    30_000,
  );
}

beforeAll(async () => {
  emulator = await startRrsaEmulator(cp, clusterId);
  leaseNamespace = await createNamespace(cp, 'lease');
});
afterAll(async () => {
  for (const child of processes) if (child.exitCode === null) child.kill('SIGKILL');
  await emulator?.stop();
});

describe('rrsa-operator manager (child processes, real apiserver, emulator)', () => {
  it('discovers the cluster identity, elects one leader, reconciles, and hands over on SIGTERM', async () => {
    const a = await startReplica();
    const b = await startReplica();
    const leaderOf = () => [a, b].filter((r) => r.output().includes('became leader'));
    await eventually('a leader', () => (leaderOf().length === 1 ? true : undefined), 30_000);
    expect(a.output() + b.output()).toContain(
      `"oidcProviderArn":"acs:ram::${emulator.accountId}:oidc-provider/ack-rrsa-${clusterId}"`,
    );
    expect(a.output() + b.output()).toContain(`"issuerUrl":"${cp.issuer}"`);

    const ns = await createNamespace(cp, 'mgr');
    await applyReadyBinding(ns, 'one');

    const health = await fetch(`http://127.0.0.1:${a.healthPort}/readyz`);
    expect(health.status).toBe(200);

    const [leader] = leaderOf();
    const follower = leader === a ? b : a;
    const stoppedAt = Date.now();
    leader!.child.kill('SIGTERM');
    expect(await leader!.exited).toBe(0);
    expect(leader!.output()).toContain('manager stopped');
    await eventually(
      'the follower to lead',
      () => (follower.output().includes('became leader') ? true : undefined),
      15_000,
    );
    // Released on shutdown: well under the 3 s lease duration.
    expect(Date.now() - stoppedAt).toBeLessThan(3000);

    await applyReadyBinding(ns, 'two');
    follower.child.kill('SIGTERM');
    expect(await follower.exited).toBe(0);
  });

  it('serves the webhook and runs the controller over shared ServiceAccount and Namespace caches', async () => {
    // Files mode: managed mode would write the caBundle of the shared
    // MutatingWebhookConfiguration that the webhook-rbac suite uses at the same time.
    const certDir = mkdtempSync(join(tmpdir(), 'rrsa-mgr-certs-'));
    const ca = createCertificateAuthority('manager test CA');
    const serving = issueCertificate(ca, { commonName: '127.0.0.1', ipAddresses: ['127.0.0.1'] });
    writeFileSync(join(certDir, 'tls.crt'), serving.certPem);
    writeFileSync(join(certDir, 'tls.key'), serving.keyPem);
    const webhookPort = await findFreePort();
    const replica = await spawnManager({
      emulator,
      clusterId,
      leaseNamespace,
      env: {
        RRSA_WEBHOOK: 'true',
        RRSA_WEBHOOK_PORT: String(webhookPort),
        RRSA_WEBHOOK_CERT_MODE: 'files',
        RRSA_WEBHOOK_CERT_DIR: certDir,
        RRSA_LEADER_ELECT: 'false',
        // A RAM budget so small that the 10 s resync stretches to many minutes (asserted below):
        // no resync during the test, so a repaired ServiceAccount proves the controller got the
        // shared informer's event. A large burst serves every call of the test at once (a
        // reconcile waiting 100 s for a token would also hold up the shutdown).
        RRSA_RESYNC: '10s',
        RRSA_RAM_QPS: '0.01',
        RRSA_RAM_BURST: '1000',
      },
    });
    processes.push(replica.child);
    try {
      const ns = await createNamespace(cp, 'shared');
      await applyReadyBinding(ns, 'three');
      const readyz = await fetch(`http://127.0.0.1:${replica.healthPort}/readyz`);
      expect(readyz.status).toBe(200);
      // Every binding this operator sees costs 2 reads per check, at most half of 0.01 calls/s.
      const { stdout: seen } = await kubectl(cp.kubeconfigPath, [
        'get',
        'pib',
        '-A',
        '-l',
        `rrsa.dev/test-env=${clusterId}`,
        '-o',
        'name',
      ]);
      const bindings = seen.trim().split('\n').length;
      const stretched = `rrsa_resync_period_seconds ${bindings * 400}\n`;
      await eventually(
        stretched.trim(),
        async () => {
          const metrics = await fetch(`http://127.0.0.1:${replica.healthPort}/metrics`);
          return (await metrics.text()).includes(stretched) ? true : undefined;
        },
        10_000,
      );

      const annotation = 'pod-identity.alibabacloud.com/role-name';
      const roleName = async () =>
        (
          await kubectl(cp.kubeconfigPath, [
            'get',
            'sa',
            'three',
            '-n',
            ns,
            '-o',
            `jsonpath={.metadata.annotations.pod-identity\\.alibabacloud\\.com/role-name}`,
          ])
        ).stdout;
      const expected = await roleName();
      expect(expected).toMatch(/^rrsa-/);
      await kubectl(cp.kubeconfigPath, ['annotate', 'sa', 'three', '-n', ns, `${annotation}-`]);
      await eventually(
        'the annotation restored from the ServiceAccount event',
        async () => ((await roleName()) === expected ? true : undefined),
        15_000,
      );

      // The webhook answers from the same cache: the pod gets the role the controller wrote.
      const answer = await httpsRequest(`https://127.0.0.1:${webhookPort}/mutate-v1-pod`, {
        method: 'POST',
        caPem: ca.certPem,
        body: JSON.parse(
          podCreateReview(
            {
              apiVersion: 'v1',
              kind: 'Pod',
              metadata: {
                name: 'p',
                namespace: ns,
                labels: { 'pod-identity.alibabacloud.com/injection': 'on' },
              },
              spec: { serviceAccountName: 'three', containers: [{ name: 'app', image: 'x' }] },
            },
            { namespace: ns },
          ),
        ),
      });
      expect(answer.status).toBe(200);
      const review = JSON.parse(answer.body) as { response: { patch?: string } };
      const patch = Buffer.from(review.response.patch ?? '', 'base64').toString();
      expect(patch).toContain(`acs:ram::${emulator.accountId}:role/${expected}`);

      // One Namespace cache for both too: labelling the namespace for injection reaches the
      // controller as that informer's event (the resync is minutes away), so Ready drops its
      // opt-in hint at once.
      const readyMessage = async () =>
        (
          await kubectl(cp.kubeconfigPath, [
            'get',
            'pib',
            'three',
            '-n',
            ns,
            '-o',
            'jsonpath={.status.conditions[?(@.type=="Ready")].message}',
          ])
        ).stdout;
      expect(await readyMessage()).toContain('is not labelled');
      await kubectl(cp.kubeconfigPath, [
        'label',
        'namespace',
        ns,
        'pod-identity.alibabacloud.com/injection=on',
      ]);
      await eventually(
        'Ready without the opt-in hint',
        async () => {
          const message = await readyMessage();
          return message.includes('can assume') && !message.includes('is not labelled')
            ? true
            : undefined;
        },
        15_000,
      );
    } finally {
      replica.child.kill('SIGTERM');
      expect(await replica.exited).toBe(0);
    }
  });

  it('fails fast with a clear message when RRSA is not enabled for the cluster', async () => {
    const previous = clusterId;
    const child = spawn(
      join(process.cwd(), 'node_modules', '.bin', 'node'),
      [
        'src/main.ts',
        'manager',
        `--kubeconfig=${cp.kubeconfigPath}`,
        '--cluster-id=no-such-cluster',
        '--health-port=0',
        '--metrics-port=0',
      ],
      {
        env: {
          ...process.env,
          RRSA_RAM_ENDPOINT: emulator.endpoint,
          RRSA_STS_ENDPOINT: emulator.endpoint,
          RRSA_IMS_ENDPOINT: emulator.endpoint,
          RRSA_ENDPOINT_PROTOCOL: 'http',
          ALIBABA_CLOUD_ACCESS_KEY_ID: emulator.rootKey.accessKeyId,
          ALIBABA_CLOUD_ACCESS_KEY_SECRET: emulator.rootKey.accessKeySecret,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(1);
    expect(output).toContain('OIDC provider ack-rrsa-no-such-cluster not found');
    expect(output).toContain('enable RRSA for cluster no-such-cluster');
    expect(previous).toBe(clusterId);
  });
});

import { Registry } from 'prom-client';
import { kubectl } from '../../devenv/kubectl.ts';
import { createCertificateAuthority } from '../../src/webhook/certs/pki.ts';
import { findFreePort } from '../../devenv/ports.ts';
import { installWebhook, uninstallWebhook, waitForInjection } from '../../devenv/webhook.ts';
import { createKubeClients, loadKubeConfig } from '../../src/kube/client.ts';
import { startPodIdentityWebhook, type PodIdentityWebhook } from '../../src/kube/webhook-wiring.ts';
import { defaultInjectionConfig } from '../../src/webhook/config.ts';
import { MUTATE_PATH } from '../../src/webhook/server.ts';
import { testControlPlane, uniqueName } from '../support/cluster.ts';
import { operatorCredentials } from '../support/operator-env.ts';

// The only test file that uses the shipped names (the MutatingWebhookConfiguration
// rrsa-operator-pod-identity, the Secret rrsa-system/rrsa-operator-webhook-tls): the webhook runs
// with the operator ServiceAccount's token and exactly config/rbac, so a missing permission
// (Secret, caBundle update, informers, Events) fails here instead of in a user's cluster.
const cp = testControlPlane();
const run = uniqueName('rbac');
let webhook: PodIdentityWebhook | undefined;

afterAll(async () => {
  await uninstallWebhook(cp.kubeconfigPath, 'rrsa-operator-pod-identity');
  await webhook?.stop();
});

describe('the webhook under config/rbac', () => {
  it('manages its certificate, writes the caBundle and injects pods with only the operator permissions', async () => {
    const kubeconfig = await operatorCredentials(cp.kubeconfigPath, cp.server, cp.caPem, cp.dir);
    const port = await findFreePort();
    await installWebhook(cp.kubeconfigPath, {
      name: 'rrsa-operator-pod-identity',
      url: `https://127.0.0.1:${port}${MUTATE_PATH}`,
      caPem: createCertificateAuthority('placeholder, replaced by the operator').certPem,
      namespaceLabels: { 'rrsa-webhook-rbac-test': run },
      failurePolicy: 'Fail',
    });
    webhook = await startPodIdentityWebhook(
      createKubeClients(loadKubeConfig(kubeconfig)),
      new Registry(),
      {
        host: '127.0.0.1',
        port,
        injection: defaultInjectionConfig({
          accountId: '1234567890123456',
          clusterId: 'rbac',
          stsEnv: { enabled: true, region: 'cn-hangzhou', vpcEndpoint: true },
        }),
        certificates: { mode: 'managed', namespace: 'rrsa-system', ipAddresses: ['127.0.0.1'] },
      },
    );
    expect(webhook.server.isReady()).toBe(true);
    const ns = uniqueName('rbac');
    await kubectl(cp.kubeconfigPath, ['create', 'namespace', ns]);
    await kubectl(cp.kubeconfigPath, [
      'label',
      'namespace',
      ns,
      'pod-identity.alibabacloud.com/injection=on',
      `rrsa-webhook-rbac-test=${run}`,
    ]);
    await kubectl(cp.kubeconfigPath, ['create', 'serviceaccount', 'app', '-n', ns]);
    await kubectl(cp.kubeconfigPath, [
      'annotate',
      'serviceaccount',
      'app',
      '-n',
      ns,
      'pod-identity.alibabacloud.com/role-name=app-role',
    ]);
    await waitForInjection(cp.kubeconfigPath, { namespace: ns, serviceAccountName: 'app' });
    const secret = await kubectl(cp.kubeconfigPath, [
      'get',
      'secret',
      'rrsa-operator-webhook-tls',
      '-n',
      'rrsa-system',
      '-o',
      'name',
    ]);
    expect(secret.stdout.trim()).toBe('secret/rrsa-operator-webhook-tls');
    await kubectl(cp.kubeconfigPath, ['delete', 'namespace', ns, '--wait=false']);
  });
});

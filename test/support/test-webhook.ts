import { Registry } from 'prom-client';
import { installWebhook } from '../../devenv/webhook.ts';
import { findFreePort } from '../../devenv/ports.ts';
import { createKubeClients, loadKubeConfig } from '../../src/kube/client.ts';
import { startPodIdentityWebhook, type PodIdentityWebhook } from '../../src/kube/webhook-wiring.ts';
import type { InjectionConfig } from '../../src/webhook/config.ts';
import { createCertificateAuthority } from '../../src/webhook/certs/pki.ts';
import { MUTATE_PATH } from '../../src/webhook/server.ts';

/**
 * The manager's webhook wiring on a free loopback port, with operator-managed certificates (the
 * apiserver trusts it only through the caBundle the operator writes), registered as
 * `webhookName` for namespaces carrying `namespaceLabels`. Failure policy Fail, not the shipped
 * Ignore: a webhook error must fail a test, not pass unnoticed. Uninstall with uninstallWebhook.
 */
export async function startTestWebhook(options: {
  kubeconfigPath: string;
  webhookName: string;
  namespaceLabels: Record<string, string>;
  operatorNamespace: string;
  injection: InjectionConfig;
  registry?: Registry;
}): Promise<PodIdentityWebhook> {
  const port = await findFreePort();
  await installWebhook(options.kubeconfigPath, {
    name: options.webhookName,
    url: `https://127.0.0.1:${port}${MUTATE_PATH}`,
    caPem: createCertificateAuthority('placeholder, replaced by the operator').certPem,
    namespaceLabels: options.namespaceLabels,
    failurePolicy: 'Fail',
  });
  return startPodIdentityWebhook(
    createKubeClients(loadKubeConfig(options.kubeconfigPath)),
    options.registry ?? new Registry(),
    {
      host: '127.0.0.1',
      port,
      injection: options.injection,
      certificates: {
        mode: 'managed',
        namespace: options.operatorNamespace,
        webhookConfigurationName: options.webhookName,
        ipAddresses: ['127.0.0.1'],
      },
    },
  );
}

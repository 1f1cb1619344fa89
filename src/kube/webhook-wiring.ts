import type { Registry } from 'prom-client';
import type { SecureVersion } from 'node:tls';
import type { V1Namespace, V1ServiceAccount } from '@kubernetes/client-node';
import { CertificateFiles } from '../webhook/certs/files.ts';
import { ManagedCertificates } from '../webhook/certs/managed.ts';
import type { CertificateSource } from '../webhook/certs/source.ts';
import type { InjectionConfig } from '../webhook/config.ts';
import { startWebhookServer, type WebhookServer } from '../webhook/server.ts';
import type { KubeConnection } from './connect.ts';
import { KubeEventSink } from './events.ts';
import { describeApiError } from './api-errors.ts';
import { logInformerError, type ResilientInformer } from './informer.ts';
import { webhookCaBundle } from './webhook-ca-bundle.ts';
import { startWebhookLookup } from './webhook-lookup.ts';
import { WEBHOOK_TLS_SECRET, webhookTlsSecret } from './webhook-tls-secret.ts';

export type WebhookCertificateConfig =
  | {
      /** cert-manager (or any tool) writes the pair; re-read every `reloadIntervalMs`. */
      mode: 'files';
      certFile: string;
      keyFile: string;
      reloadIntervalMs?: number;
    }
  | {
      /** The operator keeps a CA + serving cert in a Secret and writes the caBundle. */
      mode: 'managed';
      /** The operator's namespace (holds the Secret, and the Service the SANs name). */
      namespace: string;
      secretName?: string;
      serviceName?: string;
      webhookConfigurationName?: string;
      /** Extra SANs (a webhook reached by URL, as in the sandbox). */
      ipAddresses?: string[];
      checkIntervalMs?: number;
    };

export interface PodIdentityWebhookConfig {
  /** Default 9443 (config/manager's `webhook` container port). */
  port?: number;
  host?: string;
  minTlsVersion?: SecureVersion;
  maxBodyBytes?: number;
  injection: InjectionConfig;
  missingServiceAccount?: 'admit' | 'reject';
  certificates: WebhookCertificateConfig;
  directReadTimeoutMs?: number;
  /** The manager's ServiceAccount informer, shared with the controller. */
  serviceAccounts?: ResilientInformer<V1ServiceAccount>;
  /** The manager's Namespace informer, shared with the controller. */
  namespaces?: ResilientInformer<V1Namespace>;
  log?: (
    level: 'info' | 'warn' | 'error',
    message: string,
    fields?: Record<string, unknown>,
  ) => void;
}

export interface PodIdentityWebhook {
  server: WebhookServer;
  stop(): Promise<void>;
}

/**
 * Everything the manager needs for the webhook on every replica (leader or not): certificates,
 * informers, Events, the HTTPS server, metrics on `registry`. Stop it on shutdown.
 * RBAC: list/watch serviceaccounts and namespaces (cluster), create events; managed mode also
 * get/create/update the Secret in its namespace and get/update the MutatingWebhookConfiguration.
 */
export async function startPodIdentityWebhook(
  clients: KubeConnection,
  registry: Registry,
  config: PodIdentityWebhookConfig,
): Promise<PodIdentityWebhook> {
  const log = config.log ?? (() => undefined);
  const onError = (what: string) => (error: unknown) =>
    log('error', what, { error: describeApiError(error) });
  const certs = await startCertificates(clients, config.certificates, onError);
  const lookup = await startWebhookLookup(clients, {
    directReadTimeoutMs: config.directReadTimeoutMs ?? 1000,
    onError: logInformerError(log, 'webhook lookup'),
    ...(config.serviceAccounts ? { serviceAccounts: config.serviceAccounts } : {}),
    ...(config.namespaces ? { namespaces: config.namespaces } : {}),
  });
  const server = await startWebhookServer({
    port: config.port ?? 9443,
    ...(config.host ? { host: config.host } : {}),
    ...(config.minTlsVersion ? { minTlsVersion: config.minTlsVersion } : {}),
    ...(config.maxBodyBytes ? { maxBodyBytes: config.maxBodyBytes } : {}),
    certificates: certs.source,
    lookup,
    registry,
    events: new KubeEventSink(clients.rest, {
      component: 'rrsa-operator-webhook',
      onError: onError('could not write an Event'),
    }),
    injection: config.injection,
    missingServiceAccount: config.missingServiceAccount ?? 'admit',
    log,
  });
  return {
    server,
    stop: async () => {
      certs.stop();
      await server.close();
      await lookup.stop();
    },
  };
}

async function startCertificates(
  clients: KubeConnection,
  config: WebhookCertificateConfig,
  onError: (what: string) => (error: unknown) => void,
): Promise<{ source: CertificateSource; stop: () => void }> {
  if (config.mode === 'files') {
    const files = new CertificateFiles({
      certFile: config.certFile,
      keyFile: config.keyFile,
      ...(config.reloadIntervalMs ? { intervalMs: config.reloadIntervalMs } : {}),
      onError: onError('could not reload the serving certificate; keeping the previous one'),
    });
    await files.start();
    return { source: files, stop: () => files.stop() };
  }
  const service = config.serviceName ?? 'rrsa-operator-webhook';
  const managed = new ManagedCertificates({
    secret: webhookTlsSecret(
      clients.rest,
      config.namespace,
      config.secretName ?? WEBHOOK_TLS_SECRET,
    ),
    caBundle: webhookCaBundle(
      clients.rest,
      config.webhookConfigurationName ?? 'rrsa-operator-pod-identity',
    ),
    dnsNames: [
      `${service}.${config.namespace}.svc`,
      `${service}.${config.namespace}.svc.cluster.local`,
    ],
    ...(config.ipAddresses ? { ipAddresses: config.ipAddresses } : {}),
    ...(config.checkIntervalMs ? { checkIntervalMs: config.checkIntervalMs } : {}),
    onError: onError('webhook certificate check failed; will retry'),
  });
  await managed.start();
  return { source: managed, stop: () => managed.stop() };
}

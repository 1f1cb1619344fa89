import type { CoreV1Api, V1Secret } from '@kubernetes/client-node';
import type { TlsBundle, TlsSecretPort } from '../webhook/certs/managed.ts';
import { isConflict, isNotFound } from './client.ts';

/** The Secret the operator keeps its webhook CA and serving certificate in. */
export const WEBHOOK_TLS_SECRET = 'rrsa-operator-webhook-tls';

const b64 = (text: string): string => Buffer.from(text).toString('base64');
const unb64 = (text: string | undefined): string =>
  text ? Buffer.from(text, 'base64').toString('utf8') : '';

function toBundle(secret: V1Secret): TlsBundle | undefined {
  const data = secret.data ?? {};
  const bundle = {
    caCertPem: unb64(data['ca.crt']),
    caKeyPem: unb64(data['ca.key']),
    certPem: unb64(data['tls.crt']),
    keyPem: unb64(data['tls.key']),
  };
  return Object.values(bundle).every((v) => v.length > 0) ? bundle : undefined;
}

function toSecret(namespace: string, name: string, bundle: TlsBundle, version?: string): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'kubernetes.io/tls',
    metadata: {
      name,
      namespace,
      labels: { 'app.kubernetes.io/managed-by': 'rrsa-operator' },
      ...(version ? { resourceVersion: version } : {}),
    },
    data: {
      'ca.crt': b64(bundle.caCertPem),
      'ca.key': b64(bundle.caKeyPem),
      'tls.crt': b64(bundle.certPem),
      'tls.key': b64(bundle.keyPem),
    },
  };
}

/** TlsSecretPort over core/v1 Secrets, with resourceVersion-based optimistic concurrency. */
export function webhookTlsSecret(
  core: CoreV1Api,
  namespace: string,
  name = WEBHOOK_TLS_SECRET,
): TlsSecretPort {
  return {
    async read() {
      try {
        const secret = await core.readNamespacedSecret({ namespace, name });
        return { bundle: toBundle(secret), version: secret.metadata?.resourceVersion ?? '' };
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    },
    async create(bundle) {
      try {
        await core.createNamespacedSecret({ namespace, body: toSecret(namespace, name, bundle) });
        return true;
      } catch (error) {
        if (isConflict(error)) return false;
        throw error;
      }
    },
    async update(bundle, version) {
      try {
        await core.replaceNamespacedSecret({
          namespace,
          name,
          body: toSecret(namespace, name, bundle, version),
        });
        return true;
      } catch (error) {
        if (isConflict(error) || isNotFound(error)) return false;
        throw error;
      }
    },
  };
}

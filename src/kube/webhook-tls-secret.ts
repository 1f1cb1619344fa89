import type { V1Secret } from '@kubernetes/client-node';
import type { TlsBundle, TlsSecretPort } from '../webhook/certs/managed.ts';
import { isConflict, isNotFound } from './api-status.ts';
import type { KubeRest } from './rest.ts';

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
  rest: KubeRest,
  namespace: string,
  name = WEBHOOK_TLS_SECRET,
): TlsSecretPort {
  const secrets = `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets`;
  const path = `${secrets}/${encodeURIComponent(name)}`;
  return {
    async read() {
      try {
        const secret = await rest.get<V1Secret>(path);
        return { bundle: toBundle(secret), version: secret.metadata?.resourceVersion ?? '' };
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    },
    async create(bundle) {
      try {
        await rest.request('POST', secrets, { body: toSecret(namespace, name, bundle) });
        return true;
      } catch (error) {
        if (isConflict(error)) return false;
        throw error;
      }
    },
    async update(bundle, version) {
      try {
        await rest.request('PUT', path, { body: toSecret(namespace, name, bundle, version) });
        return true;
      } catch (error) {
        if (isConflict(error) || isNotFound(error)) return false;
        throw error;
      }
    },
  };
}

import type { V1MutatingWebhookConfiguration } from '@kubernetes/client-node';
import type { CaBundlePort } from '../webhook/certs/managed.ts';
import { isConflict } from './api-status.ts';
import type { KubeRest } from './rest.ts';

/**
 * Writes `caBundle` into every webhook of one MutatingWebhookConfiguration, only when it
 * differs (a read per check, a write per rotation). A GitOps tool that re-applies the manifest
 * without a caBundle is corrected on the next check; tell it to ignore that field
 * (Argo CD: ignoreDifferences jqPathExpressions .webhooks[]?.clientConfig.caBundle).
 */
export function webhookCaBundle(rest: KubeRest, name: string): CaBundlePort {
  const path = `/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/${encodeURIComponent(name)}`;
  return {
    async ensure(caBundlePem) {
      const wanted = Buffer.from(caBundlePem).toString('base64');
      for (let attempt = 0; attempt < 5; attempt++) {
        const config = await rest.get<V1MutatingWebhookConfiguration>(path);
        const webhooks = config.webhooks ?? [];
        if (webhooks.every((w) => w.clientConfig.caBundle === wanted)) return;
        for (const webhook of webhooks) webhook.clientConfig.caBundle = wanted;
        try {
          await rest.request('PUT', path, { body: config });
          return;
        } catch (error) {
          if (!isConflict(error)) throw error;
        }
      }
      throw new Error(`MutatingWebhookConfiguration ${name} kept changing; caBundle not written`);
    },
  };
}

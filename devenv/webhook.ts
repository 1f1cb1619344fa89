import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { waitFor } from './kube-http.ts';
import { kubectl } from './kubectl.ts';

export interface InstallWebhookOptions {
  /** Name of the MutatingWebhookConfiguration (cluster-scoped: unique per test file). */
  name: string;
  /** Where the apiserver calls the webhook, e.g. https://127.0.0.1:PORT/mutate-v1-pod. */
  url: string;
  /** CA that signed the serving certificate (becomes caBundle). */
  caPem: string;
  /** Extra namespaceSelector requirements ANDed into every webhook (scope to test namespaces). */
  namespaceLabels?: Record<string, string>;
  failurePolicy?: 'Ignore' | 'Fail';
  /** The manifest to adapt; default config/webhook/mutatingwebhookconfiguration.yaml. */
  manifestPath?: string;
  /**
   * A namespace that should be injected: wait until a server-side dry-run pod there comes back
   * mutated, since the apiserver picks a new configuration up asynchronously.
   */
  probe?: { namespace: string; serviceAccountName: string };
}

interface WebhookEntry {
  clientConfig: Record<string, unknown>;
  namespaceSelector?: { matchExpressions?: unknown[] };
  failurePolicy?: string;
}

/**
 * Registers the real MutatingWebhookConfiguration from config/webhook, pointed at a URL instead of
 * the in-cluster Service: the integration tests and the sandbox run the admission server on the
 * host. Selectors, rules, reinvocation and timeouts stay exactly as shipped.
 */
export async function installWebhook(
  kubeconfigPath: string,
  options: InstallWebhookOptions,
): Promise<void> {
  const manifestPath =
    options.manifestPath ?? join(process.cwd(), 'config/webhook/mutatingwebhookconfiguration.yaml');
  const manifest = parse(readFileSync(manifestPath, 'utf8')) as {
    metadata: { name: string };
    webhooks: WebhookEntry[];
  };
  manifest.metadata.name = options.name;
  const extra = Object.entries(options.namespaceLabels ?? {}).map(([key, value]) => ({
    key,
    operator: 'In',
    values: [value],
  }));
  for (const webhook of manifest.webhooks) {
    webhook.clientConfig = {
      url: options.url,
      caBundle: Buffer.from(options.caPem).toString('base64'),
    };
    webhook.namespaceSelector = {
      ...webhook.namespaceSelector,
      matchExpressions: [...(webhook.namespaceSelector?.matchExpressions ?? []), ...extra],
    };
    if (options.failurePolicy) webhook.failurePolicy = options.failurePolicy;
  }
  await kubectl(kubeconfigPath, ['apply', '--server-side', '--force-conflicts', '-f', '-'], {
    input: JSON.stringify(manifest),
  });
  if (options.probe) await waitForInjection(kubeconfigPath, options.probe);
}

/** Waits until a server-side dry-run pod in `probe.namespace` comes back injected. */
export async function waitForInjection(
  kubeconfigPath: string,
  probe: { namespace: string; serviceAccountName: string },
): Promise<void> {
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'webhook-probe', namespace: probe.namespace },
    spec: {
      serviceAccountName: probe.serviceAccountName,
      containers: [{ name: 'probe', image: 'probe' }],
    },
  };
  await waitFor(
    'the apiserver to call the webhook',
    async () => {
      const { stdout } = await kubectl(
        kubeconfigPath,
        ['create', '--dry-run=server', '-o', 'json', '-f', '-'],
        {
          input: JSON.stringify(pod),
        },
      );
      return stdout.includes('ALIBABA_CLOUD_ROLE_ARN') ? true : undefined;
    },
    30_000,
    250,
  );
}

export async function uninstallWebhook(kubeconfigPath: string, name: string): Promise<void> {
  await kubectl(kubeconfigPath, [
    'delete',
    'mutatingwebhookconfiguration',
    name,
    '--ignore-not-found',
  ]);
}

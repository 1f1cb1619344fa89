import { stringify } from 'yaml';

/** A kubeconfig with one cluster, one bearer-token user and a current context. */
export function kubeconfigYaml(params: {
  server: string;
  caPem: string;
  token: string;
  user: string;
  context?: string;
}): string {
  const context = params.context ?? 'rrsa-local';
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: context,
        cluster: {
          server: params.server,
          'certificate-authority-data': Buffer.from(params.caPem).toString('base64'),
        },
      },
    ],
    users: [{ name: params.user, user: { token: params.token } }],
    contexts: [{ name: context, context: { cluster: context, user: params.user } }],
    'current-context': context,
  });
}

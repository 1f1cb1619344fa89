import { stringify } from 'yaml';

/** A kubeconfig with one cluster, one bearer-token user and a current context. */
export function kubeconfigYaml(params: {
  server: string;
  caPem: string;
  token: string;
  user: string;
  context?: string;
}): string {
  return kubeconfigFor(params, { token: params.token });
}

/** The same with a client-certificate user (a kubelet is one: system:node:<name>). */
export function kubeconfigCertYaml(params: {
  server: string;
  caPem: string;
  certFile: string;
  keyFile: string;
  user: string;
}): string {
  return kubeconfigFor(params, {
    'client-certificate': params.certFile,
    'client-key': params.keyFile,
  });
}

function kubeconfigFor(
  params: { server: string; caPem: string; user: string; context?: string },
  credentials: Record<string, string>,
): string {
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
    users: [{ name: params.user, user: credentials }],
    contexts: [{ name: context, context: { cluster: context, user: params.user } }],
    'current-context': context,
  });
}

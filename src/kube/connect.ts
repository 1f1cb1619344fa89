import { readKubeTarget, targetTransport } from './kubeconfig.ts';
import { DEFAULT_REQUEST_TIMEOUT_MS, KubeRest } from './rest.ts';

/** What the operator's Kubernetes adapters need: the REST client (ADR 0016). */
export interface KubeConnection {
  rest: KubeRest;
}

/**
 * The manager's connection to the apiserver, from an explicit kubeconfig file, else $KUBECONFIG,
 * ~/.kube/config or in-cluster. @kubernetes/client-node is loaded only for a kubeconfig this
 * loader does not read itself (exec plugins, auth providers, proxies, merged files).
 */
export async function connectKube(
  kubeconfigPath?: string,
  requestTimeoutMs = DEFAULT_REQUEST_TIMEOUT_MS,
): Promise<KubeConnection> {
  const target = readKubeTarget(kubeconfigPath);
  if (target) return { rest: new KubeRest(targetTransport(target), requestTimeoutMs) };
  const { clientNodeTransport, loadKubeConfig } = await import('./client.ts');
  return {
    rest: new KubeRest(clientNodeTransport(loadKubeConfig(kubeconfigPath)), requestTimeoutMs),
  };
}

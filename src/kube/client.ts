import {
  AdmissionregistrationV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
} from '@kubernetes/client-node';

/**
 * The one place that imports @kubernetes/client-node at run time (with informer.ts and the
 * adapters beside it). Everything else in src/ uses `import type` or its own shapes, so unit
 * tests never load the client.
 */
export interface KubeClients {
  kubeConfig: KubeConfig;
  core: CoreV1Api;
  custom: CustomObjectsApi;
  coordination: CoordinationV1Api;
  admissionRegistration: AdmissionregistrationV1Api;
}

/** From an explicit kubeconfig file, else $KUBECONFIG, ~/.kube/config or in-cluster. */
export function loadKubeConfig(kubeconfigPath?: string): KubeConfig {
  const kc = new KubeConfig();
  if (kubeconfigPath) kc.loadFromFile(kubeconfigPath);
  else kc.loadFromDefault();
  return kc;
}

export function createKubeClients(kubeConfig: KubeConfig): KubeClients {
  return {
    kubeConfig,
    core: kubeConfig.makeApiClient(CoreV1Api),
    custom: kubeConfig.makeApiClient(CustomObjectsApi),
    coordination: kubeConfig.makeApiClient(CoordinationV1Api),
    admissionRegistration: kubeConfig.makeApiClient(AdmissionregistrationV1Api),
  };
}

/** The HTTP status of a client-node ApiException, if any. */
export function statusCodeOf(error: unknown): number | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = error.code;
    if (typeof code === 'number') return code;
  }
  return undefined;
}

export function isNotFound(error: unknown): boolean {
  return statusCodeOf(error) === 404;
}

export function isConflict(error: unknown): boolean {
  return statusCodeOf(error) === 409;
}

/**
 * client-go retries a 429 with Retry-After by itself; client-node does not. The apiserver answers
 * 429 "storage is (re)initializing" to the first reads of a freshly created CRD's watch cache,
 * and under API priority and fairness load, so one-shot reads go through this.
 */
export async function withApiRetry<T>(call: () => Promise<T>, attempts = 10): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (statusCodeOf(error) !== 429 || attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, retryAfterMs(error)));
    }
  }
}

function retryAfterMs(error: unknown): number {
  const headers = (error as { headers?: Record<string, string> }).headers;
  const seconds = Number(headers?.['retry-after']);
  return Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds, 10) * 1000 : 1000;
}

import {
  AdmissionregistrationV1Api,
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  ServerConfiguration,
  createConfiguration,
  type Configuration,
} from '@kubernetes/client-node';

/** Every Kubernetes request ends after this long unless its caller passes a tighter signal. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

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
  apps: AppsV1Api;
}

/** From an explicit kubeconfig file, else $KUBECONFIG, ~/.kube/config or in-cluster. */
export function loadKubeConfig(kubeconfigPath?: string): KubeConfig {
  const kc = new KubeConfig();
  if (kubeconfigPath) kc.loadFromFile(kubeconfigPath);
  else kc.loadFromDefault();
  return shareConnections(kc);
}

type CreateDispatcher = (cluster: unknown, agentOptions: Record<string, unknown>) => unknown;

/**
 * client-node 2.0.1 builds a new undici Agent for every request (applySecurityAuthentication ->
 * createDispatcher), so every call opens a new TLS connection: 1000 GETs opened ~595 sockets and
 * grew the malloc heap by ~90 MiB. This memoizes the dispatcher per TLS identity (server, CA,
 * client certificate), so all requests and watches share one keep-alive pool. A rotated client
 * certificate changes the key and gets a fresh pool. `createDispatcher` is private in the typings,
 * hence the cast; the memo is checked by test/integration/connections.test.ts.
 */
export function shareConnections(kc: KubeConfig): KubeConfig {
  const target = kc as unknown as { createDispatcher: CreateDispatcher };
  const original = target.createDispatcher.bind(kc);
  const pools = new Map<string, unknown>();
  target.createDispatcher = (cluster, agentOptions) => {
    const key = JSON.stringify([cluster, agentOptions]);
    if (!pools.has(key)) {
      if (pools.size >= 4) pools.clear(); // credentials rotated several times: start over
      pools.set(key, original(cluster, agentOptions));
    }
    return pools.get(key);
  };
  return kc;
}

export function createKubeClients(
  kubeConfig: KubeConfig,
  requestTimeoutMs = DEFAULT_REQUEST_TIMEOUT_MS,
): KubeClients {
  const config = apiConfiguration(kubeConfig, requestTimeoutMs);
  return {
    kubeConfig,
    core: new CoreV1Api(config),
    custom: new CustomObjectsApi(config),
    coordination: new CoordinationV1Api(config),
    admissionRegistration: new AdmissionregistrationV1Api(config),
    apps: new AppsV1Api(config),
  };
}

/**
 * What KubeConfig.makeApiClient builds, plus a deadline on every request: client-node sets none,
 * so a call to an apiserver that stopped answering would wait for the OS (minutes). A caller's
 * own signal (see deadline.ts) is appended after this middleware and wins.
 */
function apiConfiguration(kubeConfig: KubeConfig, requestTimeoutMs: number): Configuration {
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) throw new Error('kubeconfig has no current cluster');
  return createConfiguration({
    baseServer: new ServerConfiguration(cluster.server, {}),
    authMethods: { default: kubeConfig },
    promiseMiddleware: [
      {
        pre: (context) => {
          context.setHeaderParam('User-Agent', 'rrsa-operator');
          context.setSignal(AbortSignal.timeout(requestTimeoutMs));
          return Promise.resolve(context);
        },
        post: (context) => Promise.resolve(context),
      },
    ],
  });
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

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
import type { RequestOptions } from 'node:https';
import type { KubeConnection } from './connect.ts';
import { DEFAULT_REQUEST_TIMEOUT_MS, KubeRest, type KubeTransport } from './rest.ts';

export { isConflict, isNotFound, statusCodeOf, withApiRetry } from './api-status.ts';
export { DEFAULT_REQUEST_TIMEOUT_MS } from './rest.ts';

/**
 * The one place that imports @kubernetes/client-node at run time, for the doctor, the tests and
 * devenv (typed generated APIs), and for kubeconfigs connect.ts does not read itself. The
 * manager's adapters use only `rest` (KubeConnection), so the manager does not load it
 * (ADR 0016).
 */
export interface KubeClients extends KubeConnection {
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
    rest: new KubeRest(clientNodeTransport(kubeConfig), requestTimeoutMs),
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
 * own middleware is appended after this one and wins.
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

/** A KubeTransport over a client-node KubeConfig: its auth (exec, providers), our connections. */
export function clientNodeTransport(kubeConfig: KubeConfig): KubeTransport {
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) throw new Error('kubeconfig has no current cluster');
  const server = cluster.server;
  return {
    server,
    prepare: async () => {
      const opts: RequestOptions = {};
      await kubeConfig.applyToHTTPSOptions(opts);
      const headers: Record<string, string> = {};
      for (const [key, value] of Object.entries(opts.headers ?? {}))
        if (value !== undefined) headers[key] = String(value);
      if (opts.auth) headers.Authorization = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
      const bytes = (value: unknown): Buffer | undefined =>
        value === undefined || value === null ? undefined : Buffer.from(value as string);
      const tls = {
        ca: bytes(opts.ca),
        cert: bytes(opts.cert),
        key: bytes(opts.key),
        rejectUnauthorized: opts.rejectUnauthorized,
        servername: opts.servername,
      };
      return { tls, headers };
    },
  };
}

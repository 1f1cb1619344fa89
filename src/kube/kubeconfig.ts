import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import { isIPv6 } from 'node:net';
import { parse } from 'yaml';
import type { TlsIdentity } from './agents.ts';
import type { KubeTransport } from './rest.ts';

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
/** Bound ServiceAccount tokens rotate; re-read the file this often (client-node: 60 s too). */
const TOKEN_FILE_REFRESH_MS = 60_000;

/** The kubeconfig settings this loader understands without @kubernetes/client-node. */
export interface KubeTarget {
  server: string;
  tls: TlsIdentity;
  token?: string | undefined;
  tokenFile?: string | undefined;
  basicAuth?: { username: string; password: string } | undefined;
  impersonate?: string | undefined;
}

type Yaml = Record<string, unknown>;

/**
 * Reads the kubeconfig as client-node's loadFromFile / loadFromDefault would (explicit path, else
 * $KUBECONFIG, ~/.kube/config, in-cluster), for what a deployed operator uses: client
 * certificates, bearer tokens, token files, basic auth, impersonation, a CA, skip-verify and a
 * TLS server name. Anything else (exec plugins, auth providers, proxy-url, several $KUBECONFIG
 * files, no config at all) returns undefined: the caller then loads client-node's KubeConfig,
 * so behaviour stays identical for those.
 */
export function readKubeTarget(
  kubeconfigPath: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  saDir = SA_DIR,
): KubeTarget | undefined {
  if (kubeconfigPath) return fromFile(kubeconfigPath);
  const fromEnv = env.KUBECONFIG?.split(delimiter).filter(Boolean) ?? [];
  if (fromEnv.length > 1) return undefined;
  if (fromEnv.length === 1) return fromFile(fromEnv[0]!);
  const home = join(env.HOME ?? homedir(), '.kube', 'config');
  if (existsSync(home)) return fromFile(home);
  if (env.KUBERNETES_SERVICE_HOST && existsSync(join(saDir, 'token'))) return inCluster(env, saDir);
  return undefined;
}

function inCluster(env: NodeJS.ProcessEnv, saDir: string): KubeTarget {
  const host = env.KUBERNETES_SERVICE_HOST!;
  const port = env.KUBERNETES_SERVICE_PORT ?? '443';
  const scheme = port === '80' || port === '8080' || port === '8001' ? 'http' : 'https';
  return {
    server: `${scheme}://${isIPv6(host) ? `[${host}]` : host}:${port}`,
    tls: { ca: readFileSync(join(saDir, 'ca.crt')) },
    tokenFile: join(saDir, 'token'),
  };
}

function fromFile(path: string): KubeTarget | undefined {
  const doc = (parse(readFileSync(path, 'utf8')) ?? {}) as Yaml;
  const { cluster, user } = currentEntries(doc);
  if (!cluster || typeof cluster.server !== 'string') return undefined;
  if (cluster['proxy-url'] || user.exec || user['auth-provider']) return undefined;
  const server = cluster.server.replace(/\/$/, '');
  const skipVerify = cluster['insecure-skip-tls-verify'] === true;
  if (server.startsWith('http:') && !skipVerify)
    throw new Error('HTTP protocol is not allowed when skipTLSVerify is not set or false');
  const file = relativeTo(dirname(path));
  const bytes = (name: unknown, data: unknown): Buffer | undefined => {
    const resolved = file(name);
    if (resolved) return readFileSync(resolved);
    return typeof data === 'string' && data ? Buffer.from(data, 'base64') : undefined;
  };
  return {
    server,
    tls: {
      ca: bytes(cluster['certificate-authority'], cluster['certificate-authority-data']),
      cert: bytes(user['client-certificate'], user['client-certificate-data']),
      key: bytes(user['client-key'], user['client-key-data']),
      ...(skipVerify ? { rejectUnauthorized: false } : {}),
      servername: text(cluster['tls-server-name']),
    },
    ...userAuth(user, file),
  };
}

function userAuth(
  user: Yaml,
  file: (name: unknown) => string | undefined,
): Pick<KubeTarget, 'token' | 'tokenFile' | 'basicAuth' | 'impersonate'> {
  const username = text(user.username);
  return {
    token: text(user.token),
    tokenFile: file(user['token-file']),
    basicAuth:
      username === undefined ? undefined : { username, password: text(user.password) ?? '' },
    impersonate: text(user.as),
  };
}

function currentEntries(doc: Yaml): { cluster: Yaml | undefined; user: Yaml } {
  const context = named(doc.contexts, doc['current-context'])?.context as Yaml | undefined;
  return {
    cluster: named(doc.clusters, context?.cluster)?.cluster as Yaml | undefined,
    user: (named(doc.users, context?.user)?.user ?? {}) as Yaml,
  };
}

function named(list: unknown, name: unknown): Yaml | undefined {
  return (Array.isArray(list) ? (list as Yaml[]) : []).find((entry) => entry.name === name);
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** kubeconfig file references are relative to the kubeconfig's folder, as in client-node. */
function relativeTo(base: string): (name: unknown) => string | undefined {
  return (name) => {
    if (typeof name !== 'string' || !name) return undefined;
    return isAbsolute(name) ? name : join(base, name);
  };
}

/** A transport over a KubeTarget: its TLS identity, the token file re-read every minute. */
export function targetTransport(target: KubeTarget, now: () => number = Date.now): KubeTransport {
  let token = target.token;
  let tokenReadAt = -Infinity;
  return {
    server: target.server,
    prepare: () => {
      if (!target.token && target.tokenFile && now() - tokenReadAt >= TOKEN_FILE_REFRESH_MS) {
        token = readFileSync(target.tokenFile, 'utf8').trim();
        tokenReadAt = now();
      }
      const headers: Record<string, string> = {};
      if (target.basicAuth) {
        const { username, password } = target.basicAuth;
        headers.Authorization = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
      }
      if (token) headers.Authorization = `Bearer ${token}`;
      if (target.impersonate) headers['Impersonate-User'] = target.impersonate;
      return Promise.resolve({ tls: target.tls, headers });
    },
  };
}

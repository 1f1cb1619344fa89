/**
 * Every setting of the manager, declared once: its flag, its environment variable, its type,
 * default and help text. load.ts parses flags, env and an optional YAML file against this table
 * and validates the result with ajv; `--help` is rendered from it, so help never drifts.
 */
import { DEFAULT_DENIED_ACTIONS } from '../identity/policy-grants.ts';

export type OptionType = 'string' | 'integer' | 'number' | 'boolean' | 'list' | 'duration';

export interface OptionSpec {
  /** camelCase key in the config object and the YAML file. */
  key: string;
  type: OptionType;
  help: string;
  default?: string | number | boolean | string[];
  /** JSON Schema keywords for the parsed value (enum, minimum, pattern...). */
  schema?: Record<string, unknown>;
  /** Extra environment variable names read after RRSA_<KEY> (for example the SDK's own). */
  envAliases?: string[];
  required?: boolean;
}

export const OPTIONS: OptionSpec[] = [
  {
    key: 'clusterId',
    type: 'string',
    required: true,
    help: 'ACK cluster id (names the OIDC provider ack-rrsa-<id> and tags roles)',
    schema: { pattern: '^[A-Za-z0-9-]{1,64}$' },
  },
  {
    key: 'region',
    type: 'string',
    default: 'cn-hangzhou',
    help: 'Alibaba Cloud region of the cluster',
    envAliases: ['ALIBABA_CLOUD_REGION_ID'],
    schema: { pattern: '^[a-z0-9-]+$' },
  },
  {
    key: 'accountId',
    type: 'string',
    help: 'Alibaba Cloud account id (default: discovered with STS GetCallerIdentity)',
    schema: { pattern: '^[0-9]{1,32}$' },
  },
  {
    key: 'oidcProviderArn',
    type: 'string',
    help: 'OIDC provider ARN (default: IMS GetOIDCProvider of ack-rrsa-<clusterId>)',
    schema: { pattern: '^acs:ram::[0-9]+:oidc-provider/.+$' },
  },
  {
    key: 'issuerUrl',
    type: 'string',
    help: "the cluster's OIDC issuer URL (default: the provider's IssuerUrl)",
    schema: { pattern: '^https://' },
  },
  {
    key: 'roleNamePrefix',
    type: 'string',
    default: 'rrsa-',
    help: 'prefix of derived role names',
    schema: { pattern: '^[A-Za-z0-9.-]{0,20}$' },
  },
  { key: 'ramEndpoint', type: 'string', help: 'RAM endpoint override (host[:port])' },
  { key: 'stsEndpoint', type: 'string', help: 'STS endpoint override (host[:port])' },
  { key: 'imsEndpoint', type: 'string', help: 'IMS endpoint override (host[:port])' },
  {
    key: 'endpointProtocol',
    type: 'string',
    default: 'https',
    help: 'protocol for the cloud endpoints',
    schema: { enum: ['https', 'http'] },
  },
  {
    key: 'vpcEndpoints',
    type: 'boolean',
    default: false,
    help: 'use VPC endpoints for STS (in-region traffic)',
  },
  {
    key: 'resync',
    type: 'duration',
    default: '10m',
    help: 'how often a converged binding is checked again for drift (stretched so checks use at most half of --ram-qps)',
    schema: { minimum: 10, maximum: 86400 },
  },
  {
    key: 'ramQps',
    type: 'number',
    default: 10,
    help: 'RAM calls per second, across all bindings',
    schema: { exclusiveMinimum: 0, maximum: 1000 },
  },
  {
    key: 'ramBurst',
    type: 'integer',
    default: 20,
    help: 'RAM call burst',
    schema: { minimum: 1, maximum: 10000 },
  },
  {
    key: 'concurrency',
    type: 'integer',
    default: 4,
    help: 'bindings reconciled in parallel',
    schema: { minimum: 1, maximum: 64 },
  },
  {
    key: 'allowedPolicies',
    type: 'list',
    default: [],
    help: 'Type:Name globs a binding may attach (empty: all not denied)',
  },
  {
    key: 'deniedPolicies',
    type: 'list',
    default: [
      'System:AdministratorAccess',
      'System:*FullAccess',
      'System:AliyunSTSAssumeRoleAccess',
    ],
    help: 'Type:Name globs no binding may attach (deny wins)',
  },
  {
    key: 'deniedActions',
    type: 'list',
    default: [...DEFAULT_DENIED_ACTIONS],
    help: 'service:Action globs no Custom policy a binding attaches may grant (judged from its document in RAM; sts:AssumeRole only on a wildcard resource)',
  },
  {
    key: 'allowedRoleNames',
    type: 'list',
    default: ['*'],
    help: 'globs an explicit spec.role.name must match',
  },
  {
    key: 'allowAdoption',
    type: 'boolean',
    default: false,
    help: 'let bindings adopt pre-existing roles (spec.role.adopt)',
  },
  {
    key: 'podChecks',
    type: 'boolean',
    default: true,
    help: 'watch pods of bound ServiceAccounts and report stale ones (status.pods, PodsCurrent)',
  },
  {
    key: 'allowPodRestart',
    type: 'boolean',
    default: false,
    help: 'let bindings with spec.restartStalePods rollout-restart the Deployment/StatefulSet/DaemonSet of stale pods (needs config/pod-restart RBAC)',
  },
  {
    key: 'accountMappings',
    type: 'boolean',
    default: true,
    help: 'watch AccountMappings: bindings in mapped namespaces get their roles in another account (sts:AssumeRole into its management role)',
  },
  {
    key: 'issuerCaFile',
    type: 'string',
    help: "CA (PEM) to build the issuer's TLS chain with, for the fingerprint of an OIDC provider the operator creates in a mapped account (default: system CAs)",
  },
  {
    key: 'namespace',
    type: 'string',
    default: 'rrsa-system',
    help: "the operator's namespace (Lease, webhook Secret)",
    envAliases: ['POD_NAMESPACE'],
  },
  {
    key: 'leaderElect',
    type: 'boolean',
    default: true,
    help: 'run the controller on the Lease holder only',
  },
  {
    key: 'leaseDuration',
    type: 'duration',
    default: '15s',
    help: 'leader Lease duration',
    schema: { minimum: 2, maximum: 300 },
  },
  {
    key: 'metricsPort',
    type: 'integer',
    default: 8080,
    help: 'Prometheus /metrics port',
    schema: { minimum: 0, maximum: 65535 },
  },
  {
    key: 'healthPort',
    type: 'integer',
    default: 8081,
    help: '/healthz and /readyz port',
    schema: { minimum: 0, maximum: 65535 },
  },
  {
    key: 'bindingSelector',
    type: 'string',
    help: 'reconcile only PodIdentityBindings matching this label selector (sharding, canary operators)',
  },
  {
    key: 'webhook',
    type: 'boolean',
    default: true,
    help: 'serve the pod identity webhook (every replica)',
  },
  {
    key: 'webhookPort',
    type: 'integer',
    default: 9443,
    help: 'webhook HTTPS port',
    schema: { minimum: 0, maximum: 65535 },
  },
  {
    key: 'webhookCertMode',
    type: 'string',
    default: 'managed',
    help: 'managed: the operator keeps a CA and serving cert in a Secret and writes the caBundle; files: read tls.crt/tls.key from --webhook-cert-dir (cert-manager)',
    schema: { enum: ['managed', 'files'] },
  },
  {
    key: 'webhookCertDir',
    type: 'string',
    default: '/tmp/k8s-webhook-server/serving-certs',
    help: 'directory holding tls.crt and tls.key in files mode (re-read when they change)',
  },
  {
    key: 'webhookIpAddresses',
    type: 'list',
    default: [],
    help: 'extra IP SANs for a managed serving cert (a webhook reached by URL, as in the sandbox)',
  },
  {
    key: 'webhookMinTls',
    type: 'string',
    default: 'TLSv1.2',
    help: 'minimum TLS version of the webhook',
    schema: { enum: ['TLSv1.2', 'TLSv1.3'] },
  },
  {
    key: 'missingServiceAccount',
    type: 'string',
    default: 'admit',
    help: 'a pod whose ServiceAccount cannot be found: admit it uninjected (with a warning and an Event) or reject it',
    schema: { enum: ['admit', 'reject'] },
  },
  {
    key: 'injectStsEnv',
    type: 'boolean',
    default: true,
    help: 'inject ALIBABA_CLOUD_STS_ENDPOINT, _STS_REGION and _VPC_ENDPOINT_ENABLED (as ack-pod-identity-webhook 0.4)',
  },
  {
    key: 'injectStsEndpoint',
    type: 'string',
    help: 'STS endpoint written into pods (default sts-vpc.<region>.aliyuncs.com)',
  },
  {
    key: 'kubeconfig',
    type: 'string',
    help: 'kubeconfig path (default: in-cluster, then $KUBECONFIG)',
    envAliases: ['KUBECONFIG'],
  },
  {
    key: 'logLevel',
    type: 'string',
    default: 'info',
    help: 'log level',
    schema: { enum: ['error', 'warn', 'info', 'debug'] },
  },
];

export function flagName(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

export function envName(key: string): string {
  return `RRSA_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

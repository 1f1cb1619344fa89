import { ROLE_NAME_PATTERN } from './constants.ts';

/** Cluster-wide settings of the injection; per-pod settings come from labels and annotations. */
export interface InjectionConfig {
  /** Alibaba Cloud account id (uid) that owns the RAM roles. */
  accountId: string;
  /** ACK cluster id; names the default OIDC provider `ack-rrsa-<clusterId>`. */
  clusterId: string;
  /** Overrides `acs:ram::<accountId>:oidc-provider/ack-rrsa-<clusterId>`. */
  oidcProviderArn?: string;
  /** ACK 0.4 `AutoInjectSTSEnvVars`. */
  stsEnv: {
    enabled: boolean;
    region: string;
    /** Use `sts-vpc.<region>.aliyuncs.com` and tell SDKs to prefer VPC endpoints. */
    vpcEndpoint: boolean;
    /** Overrides the endpoint derived from region and vpcEndpoint. */
    endpoint?: string;
  };
  /**
   * Namespaces never mutated whatever their labels. The MutatingWebhookConfiguration already
   * excludes them; this is the second line for a hand-edited configuration (a webhook that
   * mutates its own pods can deadlock its own restart under failurePolicy Fail).
   */
  excludedNamespaces: string[];
}

export function defaultInjectionConfig(
  overrides: Partial<InjectionConfig> & Pick<InjectionConfig, 'accountId' | 'clusterId'>,
): InjectionConfig {
  return {
    excludedNamespaces: ['kube-system', 'rrsa-system'],
    ...overrides,
    stsEnv: { enabled: true, region: '', vpcEndpoint: true, ...overrides.stsEnv },
  };
}

export function roleArn(config: InjectionConfig, roleName: string): string {
  return `acs:ram::${config.accountId}:role/${roleName}`;
}

export function oidcProviderArn(config: InjectionConfig): string {
  return (
    config.oidcProviderArn ??
    `acs:ram::${config.accountId}:oidc-provider/ack-rrsa-${config.clusterId}`
  );
}

/** The STS endpoint SDKs should call: explicit, else regional VPC or public. */
export function stsEndpoint(config: InjectionConfig): string {
  const { endpoint, region, vpcEndpoint } = config.stsEnv;
  if (endpoint) return endpoint;
  // ack-ram-tool maps an unknown region to the global endpoint; keep that behaviour.
  if (!region) return 'sts.aliyuncs.com';
  return vpcEndpoint ? `sts-vpc.${region}.aliyuncs.com` : `sts.${region}.aliyuncs.com`;
}

export function isValidRoleName(name: string): boolean {
  return ROLE_NAME_PATTERN.test(name);
}

/** Problems that make the configuration unusable; empty when it is fine. */
export function checkInjectionConfig(config: InjectionConfig): string[] {
  const problems: string[] = [];
  if (!/^\d+$/.test(config.accountId)) problems.push('accountId must be a numeric account id');
  if (!config.oidcProviderArn && !config.clusterId) {
    problems.push('clusterId is required unless oidcProviderArn is set');
  }
  if (config.oidcProviderArn && !config.oidcProviderArn.startsWith('acs:ram::')) {
    problems.push('oidcProviderArn must look like acs:ram::<account>:oidc-provider/<name>');
  }
  if (config.stsEnv.enabled && !config.stsEnv.region && !config.stsEnv.endpoint) {
    problems.push('stsEnv.region (or stsEnv.endpoint) is required when STS env injection is on');
  }
  return problems;
}

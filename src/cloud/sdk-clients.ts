import RamModule from '@alicloud/ram20150501';
import StsModule from '@alicloud/sts20150401';
import ImsModule from '@alicloud/ims20190815';
import CredentialModule from '@alicloud/credentials';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import { cjsDefault } from '../util/cjs-default.ts';

// Under NodeNext a default import of these CommonJS packages is their `exports` object, so the
// class type is `.default`; cjsDefault() finds the class at run time in ESM and under jest.
export type RamClient = InstanceType<typeof RamModule.default>;
export type StsClient = InstanceType<typeof StsModule.default>;
export type ImsClient = InstanceType<typeof ImsModule.default>;

export interface CloudEndpoints {
  region: string;
  /** host[:port] without scheme; default ram.aliyuncs.com. */
  ram?: string | undefined;
  /** default sts[-vpc].<region>.aliyuncs.com. */
  sts?: string | undefined;
  /** default ims.aliyuncs.com. */
  ims?: string | undefined;
  vpcEndpoints?: boolean | undefined;
  protocol?: 'https' | 'http' | undefined;
}

/**
 * Every RAM/STS/IMS call ends: connecting within 5 s and reading the answer within 10 s, set
 * explicitly rather than inherited from SDK defaults that have changed between releases. A
 * timed-out call is classified Transient and retried with backoff by the work queue.
 */
export const CLOUD_CONNECT_TIMEOUT_MS = 5_000;
export const CLOUD_READ_TIMEOUT_MS = 10_000;

/** Static credentials (tests, the sandbox); omitted, the @alicloud/credentials default chain. */
export interface StaticCredentials {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string | undefined;
}

export interface SdkClients {
  ram: RamClient;
  sts: StsClient;
  ims: ImsClient;
}

function stsEndpoint(endpoints: CloudEndpoints): string {
  if (endpoints.sts) return endpoints.sts;
  return endpoints.vpcEndpoints
    ? `sts-vpc.${endpoints.region}.aliyuncs.com`
    : `sts.${endpoints.region}.aliyuncs.com`;
}

/**
 * Builds the three SDK clients. In a cluster the credential is the SDK's default chain, which
 * picks up RRSA (ALIBABA_CLOUD_ROLE_ARN / _OIDC_PROVIDER_ARN / _OIDC_TOKEN_FILE) for the
 * operator's own ServiceAccount; locally it picks up ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET.
 */
export function createSdkClients(
  endpoints: CloudEndpoints,
  credentials?: StaticCredentials,
): SdkClients {
  const Ram = cjsDefault<typeof RamModule.default>(RamModule);
  const Sts = cjsDefault<typeof StsModule.default>(StsModule);
  const Ims = cjsDefault<typeof ImsModule.default>(ImsModule);
  const Credential = cjsDefault<typeof CredentialModule.default>(CredentialModule);
  const auth = credentials
    ? {
        accessKeyId: credentials.accessKeyId,
        accessKeySecret: credentials.accessKeySecret,
        ...(credentials.securityToken ? { securityToken: credentials.securityToken } : {}),
      }
    : { credential: new Credential() };
  const config = (endpoint: string): $OpenApiUtil.Config =>
    new $OpenApiUtil.Config({
      ...auth,
      endpoint,
      regionId: endpoints.region,
      protocol: endpoints.protocol ?? 'https',
      connectTimeout: CLOUD_CONNECT_TIMEOUT_MS,
      readTimeout: CLOUD_READ_TIMEOUT_MS,
    });
  return {
    ram: new Ram(config(endpoints.ram ?? 'ram.aliyuncs.com')),
    sts: new Sts(config(stsEndpoint(endpoints))),
    ims: new Ims(config(endpoints.ims ?? 'ims.aliyuncs.com')),
  };
}

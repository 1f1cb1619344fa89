import * as $Ims from '@alicloud/ims20190815';
import * as $Sts from '@alicloud/sts20150401';
import { isCloudError } from './errors.ts';
import { callCloud, type CallHooks } from './call.ts';
import type { ImsClient, StsClient } from './sdk-clients.ts';
import type {
  AssumeRoleInput,
  CallerIdentity,
  CreateOidcProviderInput,
  ImsPort,
  OidcProvider,
  SessionCredentials,
  StsPort,
} from './ports.ts';

/** StsPort over @alicloud/sts20150401. */
export class AlibabaSts implements StsPort {
  readonly #client: StsClient;
  readonly #hooks: CallHooks;

  constructor(client: StsClient, hooks: CallHooks = {}) {
    this.#client = client;
    this.#hooks = hooks;
  }

  async getCallerIdentity(): Promise<CallerIdentity> {
    const res = await callCloud(this.#hooks, 'sts', 'GetCallerIdentity', () =>
      this.#client.getCallerIdentity(),
    );
    return {
      accountId: res.body?.accountId ?? '',
      arn: res.body?.arn ?? '',
      identityType: res.body?.identityType ?? '',
    };
  }

  async assumeRole(input: AssumeRoleInput): Promise<SessionCredentials> {
    const res = await callCloud(this.#hooks, 'sts', 'AssumeRole', () =>
      this.#client.assumeRole(
        new $Sts.AssumeRoleRequest({
          roleArn: input.roleArn,
          roleSessionName: input.sessionName,
          durationSeconds: input.durationSeconds,
          ...(input.externalId !== undefined ? { externalId: input.externalId } : {}),
        }),
      ),
    );
    const creds = res.body?.credentials;
    return {
      accessKeyId: creds?.accessKeyId ?? '',
      accessKeySecret: creds?.accessKeySecret ?? '',
      securityToken: creds?.securityToken ?? '',
      expiration: new Date(creds?.expiration ?? 0),
    };
  }
}

function providerFrom(
  provider: $Ims.GetOIDCProviderResponseBodyOIDCProvider | undefined,
  name: string,
): OidcProvider {
  const list = (value: string | undefined): string[] => (value ?? '').split(',').filter(Boolean);
  return {
    name: provider?.OIDCProviderName ?? name,
    arn: provider?.arn ?? '',
    issuerUrl: provider?.issuerUrl ?? '',
    clientIds: list(provider?.clientIds),
    fingerprints: list(provider?.fingerprints),
  };
}

/** ImsPort over @alicloud/ims20190815 (OIDC providers live in IMS, not RAM). */
export class AlibabaIms implements ImsPort {
  readonly #client: ImsClient;
  readonly #hooks: CallHooks;

  constructor(client: ImsClient, hooks: CallHooks = {}) {
    this.#client = client;
    this.#hooks = hooks;
  }

  async getOidcProvider(name: string): Promise<OidcProvider | undefined> {
    try {
      const res = await callCloud(this.#hooks, 'ims', 'GetOIDCProvider', () =>
        this.#client.getOIDCProvider(new $Ims.GetOIDCProviderRequest({ OIDCProviderName: name })),
      );
      return providerFrom(res.body?.OIDCProvider, name);
    } catch (error) {
      if (isCloudError(error, 'NotFound')) return undefined;
      throw error;
    }
  }

  async createOidcProvider(input: CreateOidcProviderInput): Promise<OidcProvider> {
    const res = await callCloud(this.#hooks, 'ims', 'CreateOIDCProvider', () =>
      this.#client.createOIDCProvider(
        new $Ims.CreateOIDCProviderRequest({
          OIDCProviderName: input.name,
          issuerUrl: input.issuerUrl,
          clientIds: input.clientIds.join(','),
          fingerprints: input.fingerprints.join(','),
          description: input.description,
        }),
      ),
    );
    return providerFrom(res.body?.OIDCProvider, input.name);
  }
}

import * as $Ims from '@alicloud/ims20190815';
import { isCloudError } from './errors.ts';
import { callCloud, type CallHooks } from './call.ts';
import type { ImsClient, StsClient } from './sdk-clients.ts';
import type { CallerIdentity, ImsPort, OidcProvider, StsPort } from './ports.ts';

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
      const provider = res.body?.OIDCProvider;
      return {
        name: provider?.OIDCProviderName ?? name,
        arn: provider?.arn ?? '',
        issuerUrl: provider?.issuerUrl ?? '',
        clientIds: (provider?.clientIds ?? '').split(',').filter(Boolean),
      };
    } catch (error) {
      if (isCloudError(error, 'NotFound')) return undefined;
      throw error;
    }
  }
}

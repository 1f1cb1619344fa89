import type { ImsPort, StsPort } from '../cloud/ports.ts';
import type { ClusterIdentity } from '../controller/types.ts';
import { ackProviderName, oidcProviderArn } from '../identity/arn.ts';
import { STS_AUDIENCE } from '../identity/trust-policy.ts';

export interface ClusterIdentityInput {
  clusterId: string;
  roleNamePrefix: string;
  accountId?: string | undefined;
  oidcProviderArn?: string | undefined;
  issuerUrl?: string | undefined;
}

export class ClusterIdentityError extends Error {}

/**
 * Fills in what the configuration leaves out: the account from STS GetCallerIdentity, the OIDC
 * provider `ack-rrsa-<clusterId>` (what ACK creates when RRSA is enabled) and its issuer from
 * IMS. A provider that does not trust the STS audience would make every AssumeRoleWithOIDC fail,
 * so start-up refuses it with the fix.
 */
export async function resolveClusterIdentity(
  input: ClusterIdentityInput,
  ports: { sts: StsPort; ims: ImsPort },
): Promise<ClusterIdentity> {
  const accountId = input.accountId ?? (await ports.sts.getCallerIdentity()).accountId;
  const providerName = input.oidcProviderArn
    ? input.oidcProviderArn.slice(input.oidcProviderArn.lastIndexOf('/') + 1)
    : ackProviderName(input.clusterId);
  let issuerUrl = input.issuerUrl;
  if (!issuerUrl || !input.oidcProviderArn) {
    const provider = await ports.ims.getOidcProvider(providerName);
    if (!provider)
      throw new ClusterIdentityError(
        `OIDC provider ${providerName} not found in account ${accountId}: enable RRSA for cluster ${input.clusterId}, or set --oidc-provider-arn and --issuer-url`,
      );
    if (!provider.clientIds.includes(STS_AUDIENCE))
      throw new ClusterIdentityError(
        `OIDC provider ${providerName} does not list client id ${STS_AUDIENCE}: add it (IMS AddClientIdToOIDCProvider) or STS will reject every token`,
      );
    issuerUrl ??= provider.issuerUrl;
  }
  return {
    clusterId: input.clusterId,
    accountId,
    oidcProviderArn: input.oidcProviderArn ?? oidcProviderArn(accountId, providerName),
    issuerUrl,
    roleNamePrefix: input.roleNamePrefix,
  };
}

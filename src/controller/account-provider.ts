import type { ImsPort } from '../cloud/ports.ts';
import { oidcProviderArn } from '../identity/arn.ts';
import { STS_AUDIENCE } from '../identity/trust-policy.ts';

/**
 * The cluster's OIDC provider in a target account: the one the mapping names is only verified;
 * otherwise `ack-rrsa-<clusterId>` is created when missing (IMS CreateOIDCProvider: the issuer
 * URL, the issuer's CA fingerprint, client id sts.aliyuncs.com). Either way it must be for this
 * cluster's issuer and trust the STS audience, or every pod's AssumeRoleWithOIDC would fail.
 */

export type ProviderResult =
  | { kind: 'ok'; arn: string; created: boolean }
  | { kind: 'blocked'; reason: string; message: string };

export interface ProviderInput {
  accountId: string;
  name: string;
  /** The mapping named it (verify only); false: the operator's own `ack-rrsa-<clusterId>`. */
  configured: boolean;
  mappingName: string;
  issuerUrl: string;
  clusterId: string;
  fingerprint: () => Promise<string>;
}

export async function ensureAccountProvider(
  ims: ImsPort,
  input: ProviderInput,
): Promise<ProviderResult> {
  const arn = oidcProviderArn(input.accountId, input.name);
  const where = `OIDC provider ${input.name} in account ${input.accountId}`;
  const existing = await ims.getOidcProvider(input.name);
  if (existing) {
    if (existing.issuerUrl !== input.issuerUrl)
      return {
        kind: 'blocked',
        reason: 'OidcProviderMismatch',
        message: `${where} is for issuer ${existing.issuerUrl}, not this cluster's ${input.issuerUrl}: fix spec.oidcProviderName of AccountMapping ${input.mappingName}, or the provider`,
      };
    if (!existing.clientIds.includes(STS_AUDIENCE))
      return {
        kind: 'blocked',
        reason: 'OidcProviderMismatch',
        message: `${where} does not list client id ${STS_AUDIENCE}: add it (IMS AddClientIdToOIDCProvider) or STS refuses every pod token`,
      };
    return { kind: 'ok', arn, created: false };
  }
  if (input.configured)
    return {
      kind: 'blocked',
      reason: 'OidcProviderNotFound',
      message: `${where} (spec.oidcProviderName of AccountMapping ${input.mappingName}) does not exist: create it for issuer ${input.issuerUrl}, or remove spec.oidcProviderName to let the operator create ack-rrsa-${input.clusterId}`,
    };
  if (!ims.createOidcProvider) throw new Error('the IMS port cannot create OIDC providers');
  await ims.createOidcProvider({
    name: input.name,
    issuerUrl: input.issuerUrl,
    clientIds: [STS_AUDIENCE],
    fingerprints: [await input.fingerprint()],
    description: `RRSA OIDC provider of cluster ${input.clusterId}, created by rrsa-operator`,
  });
  return { kind: 'ok', arn, created: true };
}

import { X509Certificate } from 'node:crypto';
import * as ImsModule from '@alicloud/ims20190815';
import { createSdkClients, type StaticCredentials } from '../src/cloud/sdk-clients.ts';

/**
 * What enabling RRSA does in ACK: an IMS OIDC provider `ack-rrsa-<clusterId>` for the cluster's
 * issuer, trusting the STS audience, with the SHA-1 fingerprint of the issuer's certificate.
 * Done through the real IMS SDK against the emulator.
 */
export async function createClusterOidcProvider(input: {
  endpoint: string;
  credentials: StaticCredentials;
  clusterId: string;
  issuerUrl: string;
  issuerCaPem: string;
}): Promise<string> {
  const { ims } = createSdkClients(
    {
      region: 'cn-hangzhou',
      ims: input.endpoint,
      sts: input.endpoint,
      ram: input.endpoint,
      protocol: 'http',
    },
    input.credentials,
  );
  const fingerprint = new X509Certificate(input.issuerCaPem).fingerprint
    .replace(/:/g, '')
    .toLowerCase();
  const response = await ims.createOIDCProvider(
    new ImsModule.CreateOIDCProviderRequest({
      OIDCProviderName: `ack-rrsa-${input.clusterId}`,
      issuerUrl: input.issuerUrl,
      clientIds: 'sts.aliyuncs.com',
      fingerprints: fingerprint,
      description: `RRSA OIDC provider of cluster ${input.clusterId}`,
    }),
  );
  return response.body?.OIDCProvider?.arn ?? '';
}

/** ARNs in the shapes STS and the SDKs expect (reference/peer-webhooks.md, ack-ram-tool). */
export function roleArn(accountId: string, roleName: string): string {
  return `acs:ram::${accountId}:role/${roleName}`;
}

export function oidcProviderArn(accountId: string, providerName: string): string {
  return `acs:ram::${accountId}:oidc-provider/${providerName}`;
}

/** ACK names the cluster's provider `ack-rrsa-<clusterId>`. */
export function ackProviderName(clusterId: string): string {
  return `ack-rrsa-${clusterId}`;
}

/** `system:serviceaccount:<ns>:<name>`, the `sub` of a projected ServiceAccount token. */
export function serviceAccountSubject(namespace: string, serviceAccount: string): string {
  return `system:serviceaccount:${namespace}:${serviceAccount}`;
}

/**
 * ARNs compared case-insensitively: RAM treats names case-insensitively and real error messages
 * show lowercased role ARNs (reference/alibaba-cloud-api.md marks the exact rule unconfirmed).
 */
export function sameArn(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

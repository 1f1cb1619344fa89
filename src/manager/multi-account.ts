import { readFileSync } from 'node:fs';
import { AccountClients } from '../cloud/account-clients.ts';
import { AlibabaRam } from '../cloud/alibaba-ram.ts';
import { AlibabaIms } from '../cloud/alibaba-sts-ims.ts';
import type { StsPort } from '../cloud/ports.ts';
import type { CallHooks } from '../cloud/call.ts';
import { issuerFingerprint } from '../cloud/issuer-fingerprint.ts';
import { createSdkClients, type CloudEndpoints } from '../cloud/sdk-clients.ts';
import type { MultiAccountOptions } from '../controller/controller.ts';
import { TokenBucket } from '../runtime/rate-limiter.ts';

/**
 * The cross-account wiring (docs/adr/0014): sessions into mapped accounts from the operator's own
 * STS client, each account with its own fair RAM limiter (RAM throttles per account, so one
 * account's storm must not slow another's, and within an account namespaces still share fairly).
 */
export function multiAccountOptions(input: {
  endpoints: CloudEndpoints;
  homeSts: StsPort;
  hooksFor: (limiter: TokenBucket) => CallHooks;
  limiter: { qps: number; burst: number; fair: boolean };
  issuerUrl: string;
  issuerCaFile?: string | undefined;
}): MultiAccountOptions & { close(): void } {
  const limiters = new Map<string, TokenBucket>();
  const limiterFor = (accountId: string): TokenBucket => {
    let limiter = limiters.get(accountId);
    if (!limiter) {
      limiter = new TokenBucket(input.limiter);
      limiters.set(accountId, limiter);
    }
    return limiter;
  };
  const caPem = input.issuerCaFile ? readFileSync(input.issuerCaFile, 'utf8') : undefined;
  return {
    accounts: new AccountClients({
      sts: input.homeSts,
      build: (accountId, credentials) => {
        const sdk = createSdkClients(input.endpoints, credentials);
        const hooks = input.hooksFor(limiterFor(accountId));
        return { ram: new AlibabaRam(sdk.ram, hooks), ims: new AlibabaIms(sdk.ims, hooks) };
      },
    }),
    issuerFingerprint: () => issuerFingerprint(input.issuerUrl, { caPem }),
    close: () => {
      for (const limiter of limiters.values()) limiter.close();
    },
  };
}

import type { TokenBucket } from '../runtime/rate-limiter.ts';
import { multiAccountOptions } from './multi-account.ts';

/** Each account gets its own fair RAM limiter (RAM throttles per account), kept across sessions. */
it('gives every account its own RAM limiter, the same one for each new session', async () => {
  const seen: { limiter: TokenBucket }[] = [];
  const options = multiAccountOptions({
    endpoints: {
      region: 'cn-hangzhou',
      ram: '127.0.0.1:1',
      sts: '127.0.0.1:1',
      ims: '127.0.0.1:1',
    },
    homeSts: {
      getCallerIdentity: () => Promise.reject(new Error('unused')),
      assumeRole: () =>
        Promise.resolve({
          accessKeyId: 'STS.x',
          accessKeySecret: 's',
          securityToken: 't',
          // 10 minutes left: inside the 15-minute renewal window, so every call renews.
          expiration: new Date(Date.now() + 10 * 60_000),
        }),
    },
    hooksFor: (limiter) => {
      seen.push({ limiter });
      return {};
    },
    limiter: { qps: 10, burst: 20, fair: true },
    issuerUrl: 'https://issuer.example',
  });
  const target = (accountId: string) => ({ accountId, roleArn: `acs:ram::${accountId}:role/m` });
  await options.accounts.ports(target('2222222222222222'));
  await options.accounts.ports(target('3333333333333333'));
  await options.accounts.ports(target('2222222222222222'));
  expect(seen).toHaveLength(3);
  expect(seen[0]?.limiter).not.toBe(seen[1]?.limiter);
  expect(seen[2]?.limiter).toBe(seen[0]?.limiter);
  options.close();
});

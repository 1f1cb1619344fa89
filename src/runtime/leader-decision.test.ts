import { decideLeader, microTime } from './leader-decision.ts';

describe('decideLeader', () => {
  const lease = (holder: string, renewTimeMs: number) => ({
    holderIdentity: holder,
    leaseDurationSeconds: 15,
    renewTimeMs,
    leaseTransitions: 2,
  });
  it.each([
    ['no lease', undefined, { kind: 'create' }],
    ['held by me', lease('me', 0), { kind: 'renew' }],
    ['released', lease('', 99_000), { kind: 'acquire', transitions: 3 }],
    ['expired', lease('other', 85_000), { kind: 'acquire', transitions: 3 }],
    ['held', lease('other', 90_000), { kind: 'wait', holder: 'other', expiresInMs: 5_000 }],
  ])('%s', (_name, record, expected) => {
    expect(decideLeader(record, 'me', 100_000)).toEqual(expected);
  });

  it('formats MicroTime with six fractional digits', () => {
    expect(microTime(Date.UTC(2026, 0, 2, 3, 4, 5, 678))).toBe('2026-01-02T03:04:05.678000Z');
  });
});

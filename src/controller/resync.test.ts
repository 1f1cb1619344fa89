import { resyncPeriodMs } from './resync.ts';

describe('resyncPeriodMs', () => {
  it('keeps the configured period while resyncs fit in half the RAM rate limit', () => {
    // 1000 bindings x 3 reads over 10 min = 5 reads/s, exactly half of 10/s.
    expect(resyncPeriodMs({ configuredMs: 600_000, bindings: 1000, ramQps: 10 })).toBe(600_000);
    expect(resyncPeriodMs({ configuredMs: 600_000, bindings: 0, ramQps: 10 })).toBe(600_000);
  });

  it('stretches the period when checking every binding would exceed that share', () => {
    // 5000 x 3 reads at 5 reads/s (half of 10) take 3000 s.
    expect(resyncPeriodMs({ configuredMs: 600_000, bindings: 5000, ramQps: 10 })).toBe(3_000_000);
    expect(
      resyncPeriodMs({ configuredMs: 60_000, bindings: 5000, ramQps: 50, budgetShare: 0.25 }),
    ).toBe(1_200_000);
  });
});

import { bindingFixture } from '../../test/support/fakes.ts';
import { readsPerCheck, resyncPeriodMs } from './resync.ts';

describe('resyncPeriodMs', () => {
  it('keeps the configured period while resyncs fit in half the RAM rate limit', () => {
    // 1500 bindings x 2 reads over 10 min = 5 reads/s, exactly half of 10/s.
    expect(resyncPeriodMs({ configuredMs: 600_000, bindings: 1500, ramQps: 10 })).toBe(600_000);
    expect(resyncPeriodMs({ configuredMs: 600_000, bindings: 0, ramQps: 10 })).toBe(600_000);
  });

  it('stretches the period when checking every binding would exceed that share', () => {
    // 5000 x 2 reads at 5 reads/s (half of 10) take 2000 s.
    expect(resyncPeriodMs({ configuredMs: 600_000, bindings: 5000, ramQps: 10 })).toBe(2_000_000);
    expect(
      resyncPeriodMs({ configuredMs: 60_000, bindings: 5000, ramQps: 50, budgetShare: 0.25 }),
    ).toBe(800_000);
    // The guardrail's GetPolicy reads count: 5000 bindings with one Custom policy each.
    expect(
      resyncPeriodMs({ configuredMs: 600_000, bindings: 5000, reads: 15_000, ramQps: 10 }),
    ).toBe(3_000_000);
  });
});

describe('readsPerCheck', () => {
  it('is two, plus one GetPolicy per distinct Custom policy', () => {
    expect(readsPerCheck(bindingFixture())).toBe(2);
    const custom = bindingFixture({
      role: {
        policies: [
          { type: 'System', name: 'AliyunOSSReadOnlyAccess' },
          { type: 'Custom', name: 'app-read' },
          { type: 'Custom', name: 'App-Read' },
          { type: 'Custom', name: 'app-write' },
        ],
      },
    });
    expect(readsPerCheck(custom)).toBe(4);
  });
});

import { identityHash, planRestarts, RestartBudget } from './restart-plan.ts';

const web = { kind: 'Deployment', name: 'web' };
const db = { kind: 'StatefulSet', name: 'db' };

describe('identityHash', () => {
  it('is stable and changes with the role or the provider', () => {
    const a = identityHash({ roleArn: 'acs:ram::1:role/a', oidcProviderArn: 'p' });
    expect(a).toMatch(/^[0-9a-f]{16}$/);
    expect(identityHash({ roleArn: 'acs:ram::1:role/a', oidcProviderArn: 'p' })).toBe(a);
    expect(identityHash({ roleArn: 'acs:ram::1:role/b', oidcProviderArn: 'p' })).not.toBe(a);
    expect(identityHash({ roleArn: 'acs:ram::1:role/a', oidcProviderArn: 'q' })).not.toBe(a);
  });
});

describe('planRestarts', () => {
  it('restarts only workloads not yet restarted for this identity', () => {
    const budget = new RestartBudget({ capacity: 5, refillMs: 12_000, now: 0 });
    const plan = planRestarts(
      [
        { workload: web, recorded: 'h1' },
        { workload: db, recorded: 'h0' },
      ],
      'h1',
      budget,
      0,
    );
    expect(plan).toEqual({ restart: [db], done: [web], deferred: [], retryAfterMs: undefined });
  });

  it('defers over the budget and says when the next token comes', () => {
    const budget = new RestartBudget({ capacity: 1, refillMs: 12_000, now: 0 });
    const plan = planRestarts(
      [
        { workload: web, recorded: undefined },
        { workload: db, recorded: undefined },
      ],
      'h',
      budget,
      0,
    );
    expect(plan.restart).toEqual([web]);
    expect(plan.deferred).toEqual([db]);
    expect(plan.retryAfterMs).toBe(12_000);
    expect(budget.take(6_000)).toEqual({ ok: false, retryAfterMs: 6_000 });
    expect(budget.take(12_000)).toEqual({ ok: true });
  });

  it('the bucket refills up to its capacity only', () => {
    const budget = new RestartBudget({ capacity: 2, refillMs: 1000, now: 0 });
    expect(budget.take(0).ok && budget.take(0).ok).toBe(true);
    expect(budget.take(0).ok).toBe(false);
    const later = 1_000_000;
    expect([budget.take(later).ok, budget.take(later).ok, budget.take(later).ok]).toEqual([
      true,
      true,
      false,
    ]);
  });
});

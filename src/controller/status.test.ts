import { bindingFixture } from '../../test/support/fakes.ts';
import { computeStatus, type Outcome } from './status.ts';

const now = new Date('2026-06-01T00:00:00Z');

function outcome(fields: Partial<Outcome>): Outcome {
  return {
    ready: false,
    reason: 'X',
    message: 'm',
    stalled: false,
    reconciling: false,
    details: {},
    ...fields,
  };
}

function flags(o: Outcome): Record<string, string | undefined> {
  const conditions = computeStatus(bindingFixture(), o, now).conditions ?? [];
  const get = (type: string) => conditions.find((c) => c.type === type)?.status;
  return { Ready: get('Ready'), Reconciling: get('Reconciling'), Stalled: get('Stalled') };
}

describe('computeStatus kstatus flags', () => {
  it.each([
    ['Bound', outcome({ ready: true, reason: 'Bound' }), 'True', 'False', 'False'],
    // Waiting for something that fixes itself (no retry loop, but in progress for kstatus).
    [
      'ServiceAccountNotFound',
      outcome({ reason: 'ServiceAccountNotFound' }),
      'False',
      'True',
      'False',
    ],
    [
      'CloudRetrying',
      outcome({ reason: 'CloudRetrying', reconciling: true }),
      'False',
      'True',
      'False',
    ],
    [
      'GuardrailViolation',
      outcome({ reason: 'GuardrailViolation', stalled: true }),
      'False',
      'False',
      'True',
    ],
  ])('%s', (_name, o, ready, reconciling, stalledFlag) => {
    expect(flags(o)).toEqual({ Ready: ready, Reconciling: reconciling, Stalled: stalledFlag });
  });

  it('never leaves Ready=False with neither Reconciling nor Stalled true', () => {
    for (const ready of [true, false])
      for (const stalled of [true, false])
        for (const reconciling of [true, false]) {
          const f = flags(outcome({ ready, stalled, reconciling }));
          if (f.Ready === 'False') expect([f.Reconciling, f.Stalled]).toContain('True');
        }
  });
});

describe('computeStatus keeps what the pod checks wrote', () => {
  it('carries status.pods and the PodsCurrent condition unchanged, so a reconcile never rewrites them', () => {
    const binding = bindingFixture();
    const podsCurrent = {
      type: 'PodsCurrent',
      status: 'False' as const,
      reason: 'StalePods',
      message: '1 of 1 pods ...',
      lastTransitionTime: '2026-01-01T00:00:00Z',
      observedGeneration: 1,
    };
    binding.status = { pods: { total: 1, current: 0, stale: 1 }, conditions: [podsCurrent] };
    const status = computeStatus(binding, outcome({ ready: true, reason: 'Bound' }), now);
    expect(status.pods).toEqual({ total: 1, current: 0, stale: 1 });
    expect(status.conditions?.at(-1)).toEqual(podsCurrent);
    expect(status.conditions?.filter((c) => c.type === 'PodsCurrent')).toHaveLength(1);
    // Ready keeps its meaning: stale pods do not make it False.
    expect(status.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
  });
});

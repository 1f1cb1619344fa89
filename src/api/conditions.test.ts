import { mergeConditions } from './conditions.ts';

describe('mergeConditions', () => {
  const t0 = new Date('2026-01-01T00:00:00.123Z');
  const t1 = new Date('2026-01-01T00:05:00Z');

  it('keeps lastTransitionTime while the status holds and moves it on a flip', () => {
    const first = mergeConditions(
      undefined,
      [{ type: 'Ready', status: 'False', reason: 'A', message: 'a' }],
      1,
      t0,
    );
    expect(first[0]).toEqual({
      type: 'Ready',
      status: 'False',
      reason: 'A',
      message: 'a',
      lastTransitionTime: '2026-01-01T00:00:00Z',
      observedGeneration: 1,
    });
    const same = mergeConditions(
      first,
      [{ type: 'Ready', status: 'False', reason: 'B', message: 'b' }],
      2,
      t1,
    );
    expect(same[0]!.lastTransitionTime).toBe('2026-01-01T00:00:00Z');
    expect(same[0]!.observedGeneration).toBe(2);
    const flipped = mergeConditions(
      same,
      [{ type: 'Ready', status: 'True', reason: 'C', message: 'c' }],
      2,
      t1,
    );
    expect(flipped[0]!.lastTransitionTime).toBe('2026-01-01T00:05:00Z');
  });
});

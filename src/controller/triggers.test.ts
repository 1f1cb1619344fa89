import { bindingFixture } from '../../test/support/fakes.ts';
import { maxWorkersPerNamespace } from './controller.ts';
import { bindingFingerprint } from './triggers.ts';

describe('bindingFingerprint', () => {
  const base = bindingFixture();
  it('ignores status and resourceVersion (the operator’s own writes)', () => {
    const written = {
      ...base,
      metadata: { ...base.metadata, resourceVersion: '99' },
      status: { observedGeneration: 1, roleName: 'r' },
    };
    expect(bindingFingerprint(written)).toBe(bindingFingerprint(base));
  });
  it.each([
    ['a spec change', { generation: 2 }],
    ['deletion', { deletionTimestamp: '2026-01-01T00:00:00Z' }],
    ['a finalizer change', { finalizers: [] }],
    ['a label change (selector sharding)', { labels: { shard: 'b' } }],
  ])('changes on %s', (_what, metadata) => {
    expect(bindingFingerprint({ ...base, metadata: { ...base.metadata, ...metadata } })).not.toBe(
      bindingFingerprint(base),
    );
  });
});

describe('maxWorkersPerNamespace', () => {
  it.each([
    [1, 1],
    [2, 2],
    [4, 3],
    [16, 14],
    [64, 56],
  ])('with %i workers, one namespace holds at most %i', (workers, max) => {
    expect(maxWorkersPerNamespace(workers)).toBe(max);
  });
});

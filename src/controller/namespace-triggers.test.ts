import { bindingFixture } from '../../test/support/fakes.ts';
import { keysForNamespace, namespaceChangeMatters } from './namespace-triggers.ts';

const LABEL = 'pod-identity.alibabacloud.com/injection';

describe('namespaceChangeMatters', () => {
  it('an update that only moved resourceVersion does not matter', () => {
    expect(namespaceChangeMatters('update', { [LABEL]: 'on' }, { [LABEL]: 'on' })).toBe(false);
    expect(namespaceChangeMatters('update', undefined, {})).toBe(false);
    expect(namespaceChangeMatters('update', { a: '1', b: '2' }, { b: '2', a: '1' })).toBe(false);
  });

  it('a label turned on, off, changed, added or removed matters', () => {
    expect(namespaceChangeMatters('update', { [LABEL]: 'on' }, {})).toBe(true);
    expect(namespaceChangeMatters('update', { [LABEL]: 'off' }, { [LABEL]: 'on' })).toBe(true);
    expect(namespaceChangeMatters('update', {}, { [LABEL]: 'on' })).toBe(true);
    expect(namespaceChangeMatters('update', { tier: 'a', x: '1' }, { tier: 'a' })).toBe(true);
    expect(namespaceChangeMatters('update', { tier: 'a' }, { team: 'a' })).toBe(true);
    expect(namespaceChangeMatters('update', { tier: 'a' }, undefined)).toBe(true);
  });

  it('an add matters (the cache knew nothing before), a delete does not', () => {
    expect(namespaceChangeMatters('add', {}, undefined)).toBe(true);
    expect(namespaceChangeMatters('delete', { [LABEL]: 'on' }, undefined)).toBe(false);
  });
});

describe('keysForNamespace', () => {
  const inNs = [
    bindingFixture({ namespace: 'team', name: 'a' }),
    bindingFixture({ namespace: 'team', name: 'b' }),
  ];

  it('queues every binding of the namespace when its labels changed, none when they did not', () => {
    expect(keysForNamespace('update', { [LABEL]: 'on' }, {}, inNs)).toEqual(['team/a', 'team/b']);
    expect(keysForNamespace('update', { [LABEL]: 'on' }, { [LABEL]: 'on' }, inNs)).toEqual([]);
    expect(keysForNamespace('delete', {}, undefined, inNs)).toEqual([]);
    expect(keysForNamespace('update', { [LABEL]: 'on' }, {}, [])).toEqual([]);
  });
});

import { cjsDefault } from './cjs-default.ts';

class Client {}

describe('cjsDefault', () => {
  it.each([
    ['the class itself', Client],
    ['exports.default', { default: Client }],
    ['an ESM namespace over CommonJS exports', { default: { default: Client } }],
  ])('unwraps %s', (_label, imported) => {
    expect(cjsDefault(imported)).toBe(Client);
  });

  it('rejects a module without a class', () => {
    expect(() => cjsDefault({ default: { notAClass: 1 } })).toThrow(/no default-exported class/);
  });
});

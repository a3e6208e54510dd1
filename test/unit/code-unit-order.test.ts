import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { byId, codeUnitOrder } from '../../lib/code-unit-order.ts';
import { RELATIONSHIP_ID } from '../../lib/trust/relationship-id.ts';

// Ids as RELATIONSHIP_ID admits them (trust relationships and trust anchors).
const id = fc
  .tuple(fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789'), fc.string({ unit: fc.constantFrom(...'abz09-'), maxLength: 62 }))
  .map(([first, rest]) => first + rest);

describe('codeUnitOrder', () => {
  it('generates only ids the id pattern admits', () => {
    fc.assert(fc.property(id, (s) => RELATIONSHIP_ID.test(s)));
  });

  it('orders ids as localeCompare did, so the per-tenant caps keep the same relationships and anchors', () => {
    fc.assert(
      fc.property(id, id, (a, b) => Math.sign(codeUnitOrder(a, b)) === Math.sign(a.localeCompare(b))),
      { numRuns: 2000 },
    );
  });

  it.each([
    ['a prefix first', 'ci', 'ci-main', -1],
    ['a hyphen before a digit', 'a-1', 'a01', -1],
    ['a digit before a letter', 'a1', 'aa', -1],
    ['equal ids', 'deploy', 'deploy', 0],
  ])('orders ids: %s', (_, a, b, sign) => {
    expect(Math.sign(codeUnitOrder(a, b))).toBe(sign);
    expect(Math.sign(codeUnitOrder(b, a))).toBe(-sign || 0);
  });

  it('is a total order on any strings: antisymmetric, and zero only for equal strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (a, b) => {
        const ab = codeUnitOrder(a, b);
        return Math.sign(ab) === -Math.sign(codeUnitOrder(b, a)) && (ab === 0) === (a === b);
      }),
    );
  });

  it('sorts documents by id', () => {
    expect([{ id: 'b' }, { id: 'a-2' }, { id: 'a' }].sort(byId).map((d) => d.id)).toEqual(['a', 'a-2', 'b']);
  });
});

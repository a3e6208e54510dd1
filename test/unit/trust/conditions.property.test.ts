import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PolicyInvalid } from '../../../lib/errors.ts';
import { compileConditions } from '../../../lib/trust/conditions.ts';
import { evaluateConditions } from '../../../lib/trust/evaluate.ts';

const STRING_OPERATORS = [
  'StringEquals',
  'StringNotEquals',
  'StringEqualsIgnoreCase',
  'StringNotEqualsIgnoreCase',
  'StringLike',
  'StringNotLike',
];
const OPERATORS = [
  ...STRING_OPERATORS,
  ...STRING_OPERATORS.flatMap((op) => [`ForAnyValue:${op}`, `ForAllValues:${op}`]),
  'Bool',
  'NumericEquals',
  'NumericNotEquals',
  'NumericLessThan',
  'NumericLessThanEquals',
  'NumericGreaterThan',
  'NumericGreaterThanEquals',
];
const KEYS = ['sub', 'aud', 'groups', 'kubernetes.io.namespace', 'a.b', '/a/0', '/x~1y', '__proto__', 'constructor.name'];

// One policy touching every operator (plain and IfExists) and every kind of key.
const valuesFor = (op: string) => (op.startsWith('Numeric') ? ['1', 2.5] : op === 'Bool' ? [true, 'false'] : ['a*', 'true', '?']);
const keyAt = (i: number) => KEYS[i % KEYS.length] as string;
const everything = compileConditions({
  ...Object.fromEntries(OPERATORS.map((op, i) => [op, { [keyAt(i)]: valuesFor(op) }])),
  ...Object.fromEntries(OPERATORS.slice(12).map((op, i) => [`${op}IfExists`, { [keyAt(i + 3)]: valuesFor(op) }])),
  Null: { aud: false },
});
const claimValue = fc.oneof(fc.anything(), fc.jsonValue(), fc.array(fc.oneof(fc.string(), fc.integer(), fc.boolean())));
const claims = fc.oneof(
  fc.dictionary(
    fc.constantFrom('sub', 'aud', 'groups', 'kubernetes.io', 'kubernetes', 'a', 'a.b', 'x/y', '__proto__', 'constructor'),
    claimValue,
  ),
  fc.object(),
  fc.anything(),
);

describe('conditions properties', () => {
  it('evaluateConditions never throws and reports every check, whatever the claims', () => {
    fc.assert(
      fc.property(claims, (c) => {
        const result = evaluateConditions(everything, c as Record<string, unknown>);
        expect(result.checks).toHaveLength(everything.conditions.length);
        expect(result.matched).toBe(result.checks.every((check) => check.matched));
      }),
      { numRuns: 500 },
    );
  });

  it('compileConditions either compiles or throws PolicyInvalid, for any input', () => {
    const value = fc.oneof(fc.anything(), fc.string(), fc.array(fc.oneof(fc.string(), fc.double(), fc.boolean(), fc.anything())));
    const odd = ['Null', 'NullIfExists', 'ForAnyValue:Bool', 'ForX:StringEquals', '__proto__'];
    const operator = fc.oneof(fc.constantFrom(...OPERATORS, ...odd), fc.string());
    const nearlyValid = fc.dictionary(operator, fc.oneof(fc.dictionary(fc.string({ maxLength: 300 }), value), fc.anything()));
    fc.assert(
      fc.property(fc.oneof(fc.anything(), nearlyValid), (raw) => {
        try {
          compileConditions(raw);
        } catch (e) {
          expect(e).toBeInstanceOf(PolicyInvalid);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('StringEquals on sub matches exactly the equal string, never another string or a missing sub', () => {
    fc.assert(
      // Policy variables and their escapes (`${…}`) are refused or unescaped: covered in conditions.test.ts.
      fc.property(
        fc.string({ unit: 'binary', maxLength: 64 }).filter((v) => !v.includes('${')),
        fc.string({ unit: 'binary', maxLength: 64 }),
        (v, w) => {
          const compiled = compileConditions({ StringEquals: { sub: v } });
          expect(evaluateConditions(compiled, { sub: v }).matched).toBe(true);
          expect(evaluateConditions(compiled, {}).matched).toBe(false);
          expect(evaluateConditions(compiled, { sub: w }).matched).toBe(v === w);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('StringLike without wildcards behaves exactly like StringEquals', () => {
    const literal = fc.string({ unit: 'binary', maxLength: 32 }).filter((s) => !s.includes('*') && !s.includes('?') && !s.includes('${'));
    fc.assert(
      fc.property(literal, fc.oneof(literal, fc.string({ unit: 'binary', maxLength: 32 })), fc.boolean(), (p, other, same) => {
        const claim = same ? p : other;
        const like = evaluateConditions(compileConditions({ StringLike: { sub: p } }), { sub: claim }).matched;
        const equals = evaluateConditions(compileConditions({ StringEquals: { sub: p } }), { sub: claim }).matched;
        expect(like).toBe(equals);
      }),
      { numRuns: 500 },
    );
  });

  it('StringLike agrees with a reference glob on a small alphabet', () => {
    // Reference: a direct regex translation, safe here because the inputs are tiny.
    const reference = (p: string, s: string) =>
      new RegExp(`^${p.replaceAll('.', '\\.').replaceAll('*', '.*').replaceAll('?', '.')}$`, 'su').test(s);
    const pattern = fc.string({ unit: fc.constantFrom('a', 'b', '.', '*', '?'), maxLength: 8 });
    const subject = fc.string({ unit: fc.constantFrom('a', 'b', '.'), maxLength: 10 });
    fc.assert(
      fc.property(pattern, subject, (p, s) => {
        expect(evaluateConditions(compileConditions({ StringLike: { sub: p } }), { sub: s }).matched).toBe(reference(p, s));
      }),
      { numRuns: 2000 },
    );
  });
});

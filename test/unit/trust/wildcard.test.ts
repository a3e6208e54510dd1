import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BudgetExhausted, evaluationWork } from '../../../lib/trust/limits.ts';
import { compileWildcards, literalPrefix, policyVariableProblem, wildcardBits } from '../../../lib/trust/wildcard.ts';

// Reference: a direct RegExp translation of one pattern, safe here because the inputs are tiny.
// Escapes first (`${*}` is a literal star), then `*` / `?` as wildcards over code points.
function reference(pattern: string, s: string): boolean {
  const parts: string[] = [];
  for (let i = 0; i < pattern.length; ) {
    const literal = /^\$\{([*?$])\}/.exec(pattern.slice(i));
    if (literal) {
      parts.push(`\\${literal[1]}`);
      i += 4;
      continue;
    }
    const c = String.fromCodePoint(pattern.codePointAt(i) as number);
    parts.push(c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&'));
    i += c.length;
  }
  return new RegExp(`^${parts.join('')}$`, 'su').test(s);
}

// Small alphabets, so that matches are frequent; astral characters, so that `?` must read a code point.
const patternUnit = fc.constantFrom('a', 'b', '😀', '.', '$', '*', '?', '${*}', '${?}', '${$}');
const pattern = fc.array(patternUnit, { maxLength: 12 }).map((u) => u.join(''));
// Long patterns, so that one pattern and the set straddle 32-bit word boundaries.
const longPattern = fc.array(fc.constantFrom('a', 'b', '?', '*', '😀'), { minLength: 20, maxLength: 70 }).map((u) => u.join(''));
const subject = fc.array(fc.constantFrom('a', 'b', '😀', '.', '$', '*', '?'), { maxLength: 16 }).map((u) => u.join(''));
const longSubject = fc.array(fc.constantFrom('a', 'b', '😀'), { maxLength: 90 }).map((u) => u.join(''));

describe('compileWildcards', () => {
  it('agrees with a reference glob, escapes and astral characters included', () => {
    fc.assert(
      fc.property(pattern, subject, (p, s) => {
        expect(policyVariableProblem(p)).toBeUndefined();
        expect(compileWildcards([p]).test(s)).toBe(reference(p, s));
      }),
      { numRuns: 3000 },
    );
  });

  it('matches a set of patterns exactly when one of them matches, across word boundaries', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(pattern, longPattern), { minLength: 1, maxLength: 5 }), fc.oneof(subject, longSubject), (ps, s) => {
        expect(compileWildcards(ps).test(s)).toBe(ps.some((p) => reference(p, s)));
      }),
      { numRuns: 1500 },
    );
  });

  it('reads each code point of the claim at most once: steps ≤ code points × ⌈bits / 32⌉', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(pattern, longPattern), { minLength: 1, maxLength: 5 }), fc.oneof(subject, longSubject), (ps, s) => {
        const set = compileWildcards(ps);
        expect(set.words).toBe(Math.max(1, Math.ceil(wildcardBits(ps) / 32)));
        const before = evaluationWork.steps;
        set.test(s);
        expect(evaluationWork.steps - before).toBeLessThanOrEqual([...s].length * set.words);
      }),
      { numRuns: 1000 },
    );
  });

  it('keeps its tables O(tokens + words), however many distinct characters the patterns use', () => {
    // 50 values of 512 distinct CJK characters: a dense mask per character would be 25,600 × 801 words.
    const values = Array.from({ length: 50 }, (_, v) =>
      String.fromCodePoint(...Array.from({ length: 512 }, (_, i) => 0x4e00 + v * 512 + i)),
    );
    const set = compileWildcards(values);
    expect(set.words).toBe(Math.ceil((50 * 513) / 32));
    expect(set.tableSize).toBeLessThanOrEqual(2 * 50 * 512 + 6 * set.words);
    expect(set.test(values[7] as string)).toBe(true);
    expect(set.test(`${values[7] as string}x`)).toBe(false);
  });

  it('collapses consecutive stars: `a**b` costs what `a*b` costs', () => {
    expect(wildcardBits(['a**********b'])).toBe(wildcardBits(['a*b']));
  });

  it('throws BudgetExhausted once the budget is overdrawn, and charges exactly the steps read', () => {
    const set = compileWildcards(['*x']);
    const budget = { remaining: 10 };
    expect(set.test('a'.repeat(10), budget)).toBe(false);
    expect(budget.remaining).toBe(0);
    expect(() => set.test('a', budget)).toThrow(BudgetExhausted);
  });

  it.each<[string, string, boolean]>([
    ['repo:acme/*', 'repo:acme/', true],
    ['repo:acme*', 'repo:acme', true],
    ['*:ref', '', true],
    ['a${*}b*', 'a*b', true],
    ['${?}?', '?', true],
    ['', '', false],
  ])('literalPrefix(%j) is %j (wildcard: %s)', (p, prefix, wildcard) => {
    expect(literalPrefix(p)).toEqual({ prefix, wildcard });
  });

  it.each(['${aws:username}', '${', 'a${*', '${**}', '$${x}'])('policyVariableProblem refuses %j', (v) => {
    expect(policyVariableProblem(v)).toMatch(/^must not contain a policy variable/);
  });
});

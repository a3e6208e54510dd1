// Threat model I7: `StringNotEqualsIgnoreCase` must refuse a claim that any reading of "ignoring
// case" folds onto a forbidden value (second adversarial review: the narrow fold that keeps
// StringEqualsIgnoreCase safe was the granting direction for the negated operator).
import { describe, expect, it } from 'vitest';
import { compileConditions } from '../../../lib/trust/conditions.ts';
import { evaluateConditions } from '../../../lib/trust/evaluate.ts';

/** java.lang.String#equalsIgnoreCase over UTF-16 units (regionMatches: toUpperCase, then toLowerCase). */
function javaEqualsIgnoreCase(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as string,
      y = b[i] as string;
    if (x === y) continue;
    const ux = x.toUpperCase(),
      uy = y.toUpperCase();
    if (ux.length === 1 && ux === uy) continue;
    if (ux.toLowerCase() === uy.toLowerCase() && ux.length === 1 && uy.length === 1) continue;
    if (x.toLowerCase() === y.toLowerCase()) continue;
    return false;
  }
  return true;
}
const fedbrokerGrants = (op: string, value: string, claim: string) =>
  evaluateConditions(compileConditions({ [op]: { env: value } }), { env: claim }).matched;

describe('StringNotEqualsIgnoreCase never grants where the independent evaluator refuses', () => {
  it.each([
    ['long s ſ (U+017F) vs s', 'main-branch-s', 'main-branch-\u017f'],
    ['dotless ı (U+0131) vs i', 'admin', 'adm\u0131n'],
    ['Kelvin sign \u212a vs k', 'k8s', '\u212a8s'],
  ])('refuses %s', (_name, value, claim) => {
    // A per-character fold as in Java's String.equalsIgnoreCase (upper, then lower) calls these
    // equal, and AWS does not document which reading it takes: the negated operator refuses under both.
    expect(javaEqualsIgnoreCase(value, claim)).toBe(true);
    expect(fedbrokerGrants('StringNotEqualsIgnoreCase', value, claim)).toBe(false);
  });
});

describe('StringEqualsIgnoreCase stays on the narrow reading', () => {
  it.each([
    ['dotless ı vs i', 'admin', 'adm\u0131n'],
    ['Kelvin sign vs k', 'k8s', '\u212a8s'],
  ])('does not grant %s', (_name, value, claim) => {
    expect(fedbrokerGrants('StringEqualsIgnoreCase', value, claim)).toBe(false);
  });
  it('still grants ASCII case variants, and refuses them when negated', () => {
    expect(fedbrokerGrants('StringEqualsIgnoreCase', 'Admin', 'aDMIN')).toBe(true);
    expect(fedbrokerGrants('StringNotEqualsIgnoreCase', 'Admin', 'aDMIN')).toBe(false);
    expect(fedbrokerGrants('StringNotEqualsIgnoreCase', 'Admin', 'other')).toBe(true);
  });
});

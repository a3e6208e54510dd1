import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lookupSteps } from '../../../lib/trust/claims.ts';
import { compileConditions } from '../../../lib/trust/conditions.ts';
import { AMBIGUOUS_CLAIM, evaluateConditions, NOT_EVALUATED } from '../../../lib/trust/evaluate.ts';
import { evaluationWork, MAX_CLAIM_ELEMENTS, MAX_CLAIM_LENGTH, requestBudget } from '../../../lib/trust/limits.ts';

type Claims = Record<string, unknown>;
const run = (conditions: unknown, claims: Claims) => evaluateConditions(compileConditions(conditions), claims);

// Every operator family in its plain, negated, IfExists and set forms, one key each: those a
// large claim might satisfy by being "not equal" or "absent" included.
const EVERY_FORM: [string, unknown][] = [
  ['StringEquals', 'x'],
  ['StringNotEquals', 'x'],
  ['StringEqualsIfExists', 'x'],
  ['StringNotEqualsIfExists', 'x'],
  ['StringEqualsIgnoreCase', 'x'],
  ['StringNotEqualsIgnoreCase', 'x'],
  ['StringLike', '*'],
  ['StringNotLike', 'x'],
  ['StringLikeIfExists', '*'],
  ['StringNotLikeIfExists', 'x'],
  ['ForAnyValue:StringLike', '*'],
  ['ForAllValues:StringNotLike', 'x'],
  ['ForAnyValue:StringNotEqualsIfExists', 'x'],
  ['ForAllValues:StringLikeIfExists', '*'],
  ['NumericNotEquals', 1],
  ['NumericNotEqualsIfExists', 1],
  ['Bool', true],
  ['BoolIfExists', true],
  ['Null', true],
  ['Null', false],
];

describe('claim size caps (limits.ts)', () => {
  const long = 'y'.repeat(MAX_CLAIM_LENGTH + 1);
  const many = Array<string>(MAX_CLAIM_ELEMENTS + 1).fill('y');
  it.each<[string, unknown, string]>([
    ['a string claim over the cap', long, `[not evaluated: claim longer than ${MAX_CLAIM_LENGTH} characters]`],
    ['an array claim over the cap', many, `[not evaluated: claim array longer than ${MAX_CLAIM_ELEMENTS} elements]`],
    ['an array with one element over the cap', ['y', long], `[not evaluated: claim element longer than ${MAX_CLAIM_LENGTH} characters]`],
  ])('%s fails every operator closed, negated, IfExists and Null included', (_name, value, seen) => {
    for (const [operator, v] of EVERY_FORM) {
      const result = run({ [operator]: { c: v } }, { c: value });
      expect(result.checks, operator).toEqual([{ operator, key: 'c', matched: false, seen }]);
    }
  });

  it('evaluates claims at the caps', () => {
    expect(run({ StringLike: { c: 'y*' } }, { c: 'y'.repeat(MAX_CLAIM_LENGTH) }).matched).toBe(true);
    expect(run({ 'ForAllValues:StringEquals': { c: 'y' } }, { c: Array<string>(MAX_CLAIM_ELEMENTS).fill('y') }).matched).toBe(true);
  });
});

describe('the evaluation budget', () => {
  const compiled = compileConditions({
    StringLike: { a: '*z' },
    StringNotLike: { b: 'x*' },
    StringNotEqualsIfExists: { c: 'x' },
    Null: { d: true },
  });
  const claims = { a: 'z'.repeat(100), b: 'y'.repeat(100) };

  it('charges the steps it counts, and grants within it', () => {
    const budget = requestBudget();
    const before = evaluationWork.steps;
    expect(evaluateConditions(compiled, claims, budget).matched).toBe(true);
    expect(requestBudget().remaining - budget.remaining).toBe(evaluationWork.steps - before);
  });

  it('fails every check it cannot finish closed, negated ones included, under any budget short of the cost', () => {
    const full = requestBudget();
    evaluateConditions(compiled, claims, full);
    const cost = requestBudget().remaining - full.remaining;
    expect(cost).toBeGreaterThan(100);
    for (let steps = 0; steps < cost; steps++) expectRefusal(steps);
  });

  function expectRefusal(steps: number): void {
    const result = evaluateConditions(compiled, claims, { remaining: steps });
    expect(result.matched).toBe(false);
    const refused = result.checks.filter((c) => c.seen === NOT_EVALUATED);
    expect(refused.length).toBeGreaterThan(0);
    for (const c of refused) expect(c.matched).toBe(false);
    // The refused checks are the last ones: nothing after a refusal is evaluated.
    expect(result.checks.slice(result.checks.length - refused.length)).toEqual(refused);
  }

  it('stays the ceiling whatever the conditions and claims (property)', () => {
    const value = fc.string({ unit: fc.constantFrom('a', '*', '?', '😀'), maxLength: 40 });
    fc.assert(
      fc.property(
        fc.array(value, { minLength: 1, maxLength: 5 }),
        fc.string({ unit: fc.constantFrom('a', '😀'), maxLength: 200 }),
        fc.nat(2000),
        (patterns, claim, steps) => {
          const budget = { remaining: steps };
          const before = evaluationWork.steps;
          evaluateConditions(
            compileConditions({ StringLike: { a: patterns }, 'ForAnyValue:StringNotLike': { b: patterns } }),
            { a: claim, b: [claim, claim] },
            budget,
          );
          // The step that overdraws it is the last one taken: at most one pair's words (or one key's
          // lookup) past the ceiling.
          expect(evaluationWork.steps - before).toBeLessThanOrEqual(
            steps + Math.max(Math.ceil((patterns.join('').length + patterns.length) / 32) + 1, lookupSteps('b')),
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('evaluation modes', () => {
  const compiled = compileConditions({ StringEquals: { a: 'x', b: 'y', c: 'z' } });
  it('first-failure stops at the first failed check; all reports every check', () => {
    expect(evaluateConditions(compiled, { a: 'x', b: 'n', c: 'n' }, undefined, 'first-failure').checks.map((c) => c.key)).toEqual([
      'a',
      'b',
    ]);
    expect(evaluateConditions(compiled, { a: 'x', b: 'n', c: 'n' }).checks.map((c) => c.key)).toEqual(['a', 'b', 'c']);
    expect(evaluateConditions(compiled, { a: 'x', b: 'y', c: 'z' }, undefined, 'first-failure')).toMatchObject({
      matched: true,
      checks: [{}, {}, {}],
    });
  });
});

describe('claim keys ignore case, as AWS condition keys do', () => {
  it.each<[string, unknown, Claims, boolean]>([
    // Each of these granted before keys ignored case: the policy's key named no claim.
    ['StringEqualsIfExists', { Env: 'prod' }, { env: 'dev' }, false],
    ['Null', { Env: 'true' }, { env: 'dev' }, false],
    ['StringNotEqualsIfExists', { '/Env': 'dev' }, { env: 'dev' }, false],
    ['StringEquals', { 'KUBERNETES.IO.Namespace': 'prod' }, { 'kubernetes.io': { namespace: 'prod' } }, true],
    ['StringEquals', { '/Kubernetes.io/NAMESPACE': 'prod' }, { 'kubernetes.io': { namespace: 'prod' } }, true],
    ['StringEquals', { SUB: 'x' }, { sub: 'x' }, true],
  ])('%s %j on %j is %s', (operator, block, claims, expected) => {
    expect(run({ [operator]: block }, claims).matched).toBe(expected);
  });

  it.each<[string, Claims]>([
    ['two claims that differ only in case', { env: 'prod', Env: 'dev' }],
    ['nested', { k: { env: 'prod', ENV: 'dev' } }],
    ['a Kelvin sign (U+212A), which some foldings equate with k', { \u212Aey: 'prod' }],
    ['a long s (U+017F), which upper-cases to S', { env: 'prod', \u017Fx: 'y' }],
  ])('fails every operator closed on an ambiguous key: %s', (_name, claims) => {
    const key = 'k' in claims ? 'k.env' : '\u212Aey' in claims ? 'key' : '\u017Fx' in claims ? 'sx' : 'env';
    for (const [operator, v] of EVERY_FORM) {
      expect(run({ [operator]: { [key]: v } }, claims).checks, operator).toEqual([
        { operator, key, matched: false, seen: AMBIGUOUS_CLAIM },
      ]);
    }
  });

  it.each(['__PROTO__', 'Constructor', '/PROTOTYPE'])('never resolves %j, whatever its case', (key) => {
    const claims = JSON.parse('{"__proto__":"x","constructor":"x","prototype":"x"}') as Claims;
    expect(run({ StringEquals: { [key]: 'x' } }, claims).matched).toBe(false);
  });
});

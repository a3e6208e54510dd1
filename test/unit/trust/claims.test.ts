// Claim-key resolution under the per-request budget (threat model I3; review finding: dotted keys
// were resolved at a cost quadratic in their segments, per relationship, and charged nothing).
import { describe, expect, it } from 'vitest';
import { parseClaimPath, resolveClaim, type ClaimPath } from '../../../lib/trust/claims.ts';
import { compileConditions } from '../../../lib/trust/conditions.ts';
import { evaluateConditions } from '../../../lib/trust/evaluate.ts';
import { evaluationWork, MAX_KEY_SEGMENTS, MAX_POINTER_SEGMENTS, REQUEST_BUDGET_STEPS, requestBudget } from '../../../lib/trust/limits.ts';
import { PolicyInvalid } from '../../../lib/errors.ts';

const dotted = (n: number) => Array.from({ length: n }, (_, i) => `s${i}`).join('.');
const pointer = (n: number) => `/${Array.from({ length: n }, (_, i) => `s${i}`).join('/')}`;
/** `{ a: { a: … { v: 1 } } }`, `depth` levels deep. */
const nested = (depth: number): Record<string, unknown> => {
  let o: Record<string, unknown> = { v: 1 };
  for (let i = 0; i < depth; i++) o = { a: o };
  return o;
};

describe('claim keys are bounded when stored', () => {
  it.each([
    [
      'a dotted key',
      dotted(MAX_KEY_SEGMENTS),
      dotted(MAX_KEY_SEGMENTS + 1),
      `a dotted claim key has at most ${MAX_KEY_SEGMENTS} segments (use a JSON Pointer for deeper claims)`,
    ],
    [
      'a JSON Pointer',
      pointer(MAX_POINTER_SEGMENTS),
      pointer(MAX_POINTER_SEGMENTS + 1),
      `a JSON Pointer claim key has at most ${MAX_POINTER_SEGMENTS} reference tokens`,
    ],
  ])('%s at the cap parses; one segment more is refused with its reason, also by compileConditions', (_name, atCap, over, reason) => {
    expect(typeof parseClaimPath(atCap)).toBe('object');
    expect(parseClaimPath(over)).toBe(reason);
    expect(() => compileConditions({ StringEquals: { [over]: 'x' } })).toThrow(PolicyInvalid);
    try {
      compileConditions({ StringEquals: { [over]: 'x' } });
    } catch (e) {
      expect((e as PolicyInvalid).issues.join('; ')).toContain(reason);
    }
  });

  it('hands every relationship naming the same key the same parsed path', () => {
    expect(parseClaimPath('kubernetes.io.namespace')).toBe(parseClaimPath('kubernetes.io.namespace'));
  });
});

describe('resolving a claim key', () => {
  it('charges the runs of segments it tries to the budget, by length', () => {
    const budget = requestBudget();
    const key = Array.from({ length: MAX_KEY_SEGMENTS }, () => 'a'.repeat(30)).join('.');
    resolveClaim({ other: 1 }, parseClaimPath(key) as ClaimPath, budget);
    // Eight runs tried at the one level, the longest 247 characters: at least one step per 8 characters.
    expect(REQUEST_BUDGET_STEPS - budget.remaining).toBeGreaterThanOrEqual(Math.floor(key.length / 8));
  });

  it('resolves a key once per token, however many relationships name it', () => {
    const claims = nested(MAX_KEY_SEGMENTS);
    const path = parseClaimPath('a.a.a.a.a.a.a.a') as ClaimPath;
    const budget = requestBudget();
    const first = resolveClaim(claims, path, budget);
    const spent = REQUEST_BUDGET_STEPS - budget.remaining;
    for (let i = 0; i < 100; i++) expect(resolveClaim(claims, path, budget)).toBe(first);
    expect(REQUEST_BUDGET_STEPS - budget.remaining).toBe(spent);
  });

  it('stays within the request budget for 100 relationships of 49 distinct capped keys over deeply nested claims', () => {
    const pad = (i: number, r: number) => `${'a.'.repeat(MAX_KEY_SEGMENTS - 1)}${'a'.repeat(200)}${r}x${i}`;
    const relationships = Array.from({ length: 100 }, (_, r) =>
      compileConditions({
        StringEqualsIfExists: Object.fromEntries(Array.from({ length: 49 }, (_, i) => [pad(i, r), 'x'])),
        StringEquals: { zzz: 'nope' },
      }),
    );
    const claims = nested(40);
    const budget = requestBudget();
    const before = evaluationWork.steps;
    for (const r of relationships) expect(evaluateConditions(r, claims, budget, 'first-failure').matched).toBe(false);
    const charged = evaluationWork.steps - before;
    expect(charged).toBeGreaterThan(0);
    // The ceiling holds: at most the budget plus the one charge that overdrew it.
    expect(charged).toBeLessThanOrEqual(REQUEST_BUDGET_STEPS + 1 + (MAX_KEY_SEGMENTS * 260) / 8);
  });

  it('stops at the budget when the token names a claim at every dot count, so every run of every key is tried', () => {
    // Second review: 100 relationships × 49 `Null` pairs on distinct 8-segment keys, over claims that
    // hold names with 1–7 dots at every level; each run tried is charged by length.
    const seg = Array.from({ length: 7 }, (_, s) => `S${s}${'Q'.repeat(28)}`);
    const relationships = Array.from({ length: 100 }, (_, r) =>
      compileConditions({
        Null: Object.fromEntries(Array.from({ length: 49 }, (_, p) => [[...seg, `R${r}P${p}${'Z'.repeat(24)}`].join('.'), 'true'])),
        StringEquals: { sub: 'never' },
      }),
    );
    const level = (): Record<string, unknown> =>
      Object.fromEntries(
        Array.from({ length: 7 }, (_, d) => [
          Array(d + 2)
            .fill('x')
            .join('.'),
          1,
        ]),
      );
    const claims: Record<string, unknown> = { sub: 'x', ...level() };
    let at = claims;
    for (const s of seg) {
      const next = level();
      at[s] = next;
      at = next;
    }
    const budget = requestBudget();
    const before = evaluationWork.steps;
    for (const r of relationships) expect(evaluateConditions(r, claims, budget, 'first-failure').matched).toBe(false);
    expect(budget.remaining).toBeLessThanOrEqual(0);
    expect(evaluationWork.steps - before).toBeLessThanOrEqual(REQUEST_BUDGET_STEPS + 8 + 4 * 256);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { codeUnitOrder } from '../../../lib/code-unit-order.ts';
import { evaluatedRelationships, explainedRelationships, standingChecks } from '../../../lib/tenants/evaluated-relationships.ts';
import { MAX_RELATIONSHIPS } from '../../../lib/tenants/tenant.ts';

type Stored = { id: string; enabled: boolean; generation?: string | undefined; kind: 'oidc' | 'x509' };

// A tenant partition as the store may hold it: past the cap (concurrent creates overshoot it),
// disabled documents, documents saved before generations existed, both kinds.
const stored = fc
  .uniqueArray(fc.integer({ min: 0, max: 999 }), { minLength: 0, maxLength: 2 * MAX_RELATIONSHIPS + 40 })
  .chain((ns) =>
    fc.tuple(
      ...ns.map((n) =>
        fc.record({
          id: fc.constant(`r${n}`),
          enabled: fc.constantFrom(true, true, true, false),
          generation: fc.constantFrom('g1', 'g2', '', undefined),
          kind: fc.constantFrom('oidc' as const, 'x509' as const),
        }),
      ),
    ),
  )
  .map((rs) => rs as Stored[]);

const usable = (r: Stored) => r.enabled && typeof r.generation === 'string' && r.generation.length > 0;

describe('evaluatedRelationships', () => {
  it('keeps the usable relationships with the smallest ids, at most the cap, in id order', () => {
    fc.assert(
      fc.property(stored, (rs) => {
        const ids = evaluatedRelationships(rs).map((r) => r.id);
        const expected = rs
          .filter(usable)
          .map((r) => r.id)
          .sort(codeUnitOrder)
          .slice(0, MAX_RELATIONSHIPS);
        expect(ids).toEqual(expected);
      }),
    );
  });
});

describe('explainedRelationships', () => {
  it('lists exactly the evaluated set without a reason, in id order, and at most the cap of the others', () => {
    fc.assert(
      fc.property(stored, (rs) => {
        const listed = explainedRelationships(rs);
        const evaluated = evaluatedRelationships(rs);
        expect(listed.filter((e) => e.unevaluated === undefined).map((e) => e.relationship)).toEqual(evaluated);
        const others = listed.filter((e) => e.unevaluated !== undefined);
        expect(others.length).toBe(Math.min(MAX_RELATIONSHIPS, rs.length - evaluated.length));
        const ids = listed.map((e) => e.relationship.id);
        expect(ids).toEqual([...ids].sort(codeUnitOrder));
        for (const { relationship: r, unevaluated } of others) {
          expect(unevaluated).toBe(!r.enabled ? 'enabled' : !usable(r) ? 'generation' : 'tenant_cap');
        }
      }),
    );
  });

  it('gives the x509 explanation the x509 relationships a session evaluates: the cap applies across kinds first', () => {
    fc.assert(
      fc.property(stored, (rs) => {
        const explainedX509 = explainedRelationships(rs).filter((e) => e.relationship.kind === 'x509' && !e.unevaluated);
        const sessionX509 = evaluatedRelationships(rs).filter((r) => r.kind === 'x509');
        expect(explainedX509.map((e) => e.relationship)).toEqual(sessionX509);
      }),
    );
  });
});

describe('standingChecks', () => {
  it.each([
    ['an evaluated relationship', { enabled: true }, undefined, [{ check: 'enabled', matched: true }]],
    ['a disabled one', { enabled: false }, 'enabled' as const, [{ check: 'enabled', matched: false }]],
    [
      'one saved before generations existed',
      { enabled: true },
      'generation' as const,
      [
        { check: 'enabled', matched: true },
        { check: 'generation', matched: false },
      ],
    ],
    [
      'one past the cap',
      { enabled: true },
      'tenant_cap' as const,
      [
        { check: 'enabled', matched: true },
        { check: 'tenant_cap', matched: false },
      ],
    ],
  ])('shows %s', (_, r, unevaluated, checks) => {
    expect(standingChecks({ relationship: { id: 'x', ...r }, ...(unevaluated ? { unevaluated } : {}) })).toEqual(checks);
  });
});

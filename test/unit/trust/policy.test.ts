import { describe, expect, it } from 'vitest';
import { NOT_EVALUATED } from '../../../lib/trust/evaluate.ts';
import { compileRelationship } from '../../../lib/trust/policy.ts';
import { validateRelationship } from '../../../lib/trust/validate.ts';
import type { TrustRelationship } from '../../../lib/trust/schema.ts';

const options = { local: false, cognitoIssuer: 'https://cognito-identity.amazonaws.com' };
const base = { kind: 'oidc', issuer: 'https://issuer.example.com', audiences: ['fedbroker'], scopes: ['id-token:issue'] };

describe('compileRelationship: evaluate', () => {
  const ctx = { cognitoIssuer: options.cognitoIssuer, developerProvider: 'fedbroker' };
  const compile = (conditions: unknown, id = 'r') =>
    compileRelationship(
      {
        ...validateRelationship({ ...base, conditions }, options),
        id,
        tenant: 't',
        version: 1,
        created_at: '',
        updated_at: '',
      } as TrustRelationship,
      ctx,
    );
  const trust = compile({ StringEquals: { a: 'x' }, StringLike: { b: '*y' }, StringNotEquals: { c: 'z' } });
  const claims = { aud: 'fedbroker', a: 'x', b: 'n'.repeat(500), c: 'w' };

  it('reports every check in full mode and stops at the first failure in first-failure mode', () => {
    expect(trust.evaluate(claims).checks.map((c) => c.key ?? c.check)).toEqual(['audience', 'a', 'b', 'c']);
    expect(trust.evaluate(claims, undefined, 'first-failure').checks.map((c) => c.key ?? c.check)).toEqual(['audience', 'a', 'b']);
    expect(trust.evaluate({ ...claims, aud: 'other' }, undefined, 'first-failure').checks.map((c) => c.check)).toEqual(['audience']);
  });

  it('charges the budget it is given, and fails closed when it runs out, negated checks included', () => {
    const budget = { remaining: 100 };
    const result = trust.evaluate({ ...claims, b: 'y' }, budget);
    expect(result.matched).toBe(true);
    expect(budget.remaining).toBeLessThan(100);
    expect(trust.evaluate(claims, { remaining: 10 }).checks.slice(2)).toEqual([
      { check: 'condition', operator: 'StringLike', key: 'b', matched: false, seen: NOT_EVALUATED },
      { check: 'condition', operator: 'StringNotEquals', key: 'c', matched: false, seen: NOT_EVALUATED },
    ]);
  });

  it('shares one budget across the candidates of a request', () => {
    const budget = { remaining: 600 };
    expect(trust.evaluate(claims, budget).matched).toBe(false); // 500 code points read
    expect(
      compile({ StringLike: { b: '*n' } }, 'other')
        .evaluate(claims, budget)
        .checks.at(-1),
    ).toMatchObject({ matched: false, seen: NOT_EVALUATED });
  });
});

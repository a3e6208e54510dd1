import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileConditions } from '../../../lib/trust/conditions.ts';
import { evaluateConditions } from '../../../lib/trust/evaluate.ts';
import { validateRelationship } from '../../../lib/trust/validate.ts';

// The guard's promise, as a property: no relationship it accepts for GitHub Actions matches the
// tokens of two different owners. Relationships are built from a genuine token A (so that they
// usually match it), then token B is A's twin from another owner: every owner-bearing claim
// (sub, repository, repository_owner, repository_owner_id, repository_id) names the other owner
// consistently, and everything else (ref, environment, job_workflow_ref: the attacker calls acme's
// reusable workflow) stays as in A.

const options = { local: false, cognitoIssuer: 'https://cognito-identity.amazonaws.com' };
const issuer = 'https://token.actions.githubusercontent.com';

interface Owner {
  name: string;
  id: string;
  repoId: string;
}
const SUB_TEMPLATES = [
  (o: Owner) => `repo:${o.name}/app:ref:refs/heads/main`,
  (o: Owner) => `repo:${o.name}/app:pull_request`,
  (o: Owner) => `repo:${o.name}/app:environment:prod`,
  (o: Owner) => `repository_owner:${o.name}:environment:prod`,
  (o: Owner) => `repository_owner_id:${o.id}:environment:prod`,
  (o: Owner) => `repository:${o.name}/app:ref:refs/heads/main`,
  (o: Owner) => `repository_id:${o.repoId}:ref:refs/heads/main`,
  () => 'environment:prod:ref:refs/heads/main', // a custom template naming no owner
];
function tokenOf(o: Owner, template: number): Record<string, string> {
  return {
    sub: (SUB_TEMPLATES[template] as (o: Owner) => string)(o),
    repository: `${o.name}/app`,
    repository_owner: o.name,
    repository_owner_id: o.id,
    repository_id: o.repoId,
    job_workflow_ref: 'acme/workflows/.github/workflows/deploy.yml@refs/heads/main',
    ref: 'refs/heads/main',
    environment: 'prod',
  };
}
const CLAIMS = ['sub', 'repository', 'repository_owner', 'repository_owner_id', 'repository_id', 'job_workflow_ref', 'ref', 'environment'];

const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,5}$/);
const digits = fc.stringMatching(/^[1-9][0-9]{0,5}$/);
// Two owners that differ, sometimes one a prefix of the other (acme / acme-evil).
const owners = fc
  .tuple(
    name,
    fc.oneof(
      name,
      name.map((n) => `-${n}`),
    ),
    digits,
    digits,
    digits,
    digits,
    fc.boolean(),
  )
  .map(([a, b, id1, id2, r1, r2, prefix]): [Owner, Owner] => [
    { name: a, id: id1, repoId: r1 },
    { name: prefix ? `${a}${b}` : b, id: id2, repoId: r2 },
  ])
  .filter(([a, b]) => a.name.toLowerCase() !== b.name.toLowerCase() && a.id !== b.id && a.repoId !== b.repoId);

// A value derived from A's claim: exact, a run replaced by `*`, characters replaced by `?`, or other.
const derive = (claim: string) =>
  fc.oneof(
    fc.constant(claim),
    fc
      .tuple(fc.nat(claim.length), fc.nat(claim.length))
      .map(([i, j]) => `${claim.slice(0, Math.min(i, j))}*${claim.slice(Math.max(i, j))}`),
    fc
      .tuple(fc.nat(claim.length), fc.nat(claim.length))
      .map(([i, j]) => `${claim.slice(0, i)}*${claim.slice(i, j)}*${claim.slice(Math.max(i, j))}`),
    fc.nat(Math.max(0, claim.length - 1)).map((i) => `${claim.slice(0, i)}?${claim.slice(i + 1)}`),
    fc.constantFrom('*', '*:pull_request', '*/app', 'zzz'),
  );
const OPERATORS = [
  'StringEquals',
  'StringEqualsIgnoreCase',
  'StringLike',
  'ForAnyValue:StringLike',
  'ForAllValues:StringEquals',
  'StringLikeIfExists',
  'StringNotLike',
  'StringNotEquals',
];
const keyForm = (claim: string) =>
  fc.constantFrom(claim, `/${claim}`, claim.toUpperCase(), claim[0]?.toUpperCase() + claim.slice(1), `${claim}.x`);

function pair(a: Record<string, string>) {
  return fc
    .constantFrom(...CLAIMS)
    .chain((claim) =>
      fc.tuple(fc.constantFrom(...OPERATORS), keyForm(claim), fc.array(derive(a[claim] as string), { minLength: 1, maxLength: 3 })),
    );
}

const matches = (conditions: Record<string, Record<string, string[]>>, claims: Record<string, string>) =>
  evaluateConditions(compileConditions(conditions), claims).matched;
function guardAccepts(conditions: unknown): boolean {
  try {
    validateRelationship({ kind: 'oidc', issuer, audiences: ['fedbroker'], scopes: ['id-token:issue'], conditions }, options);
    return true;
  } catch {
    return false;
  }
}

describe('the public-issuer guard (property)', () => {
  it('accepts no relationship that matches the tokens of two different owners', () => {
    const scenario = fc.tuple(owners, fc.nat(SUB_TEMPLATES.length - 1)).chain(([[ownerA, ownerB], template]) => {
      const a = tokenOf(ownerA, template);
      return fc.tuple(fc.constant(a), fc.constant(tokenOf(ownerB, template)), fc.array(pair(a), { minLength: 1, maxLength: 3 }));
    });
    let acceptedAndMatched = 0;
    fc.assert(
      fc.property(scenario, ([a, b, pairs]) => {
        const conditions: Record<string, Record<string, string[]>> = {};
        for (const [operator, key, values] of pairs) {
          conditions[operator] ??= {};
          conditions[operator][key] = values;
        }
        const accepted = guardAccepts(conditions);
        if (accepted && matches(conditions, a)) acceptedAndMatched++;
        expect(accepted && matches(conditions, a) && matches(conditions, b)).toBe(false);
      }),
      { numRuns: 3000 },
    );
    // The property is not vacuous: the guard accepted relationships that match token A.
    expect(acceptedAndMatched).toBeGreaterThan(100);
  });
});

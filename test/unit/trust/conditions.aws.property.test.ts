import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PolicyInvalid } from '../../../lib/errors.ts';
import { compileConditions } from '../../../lib/trust/conditions.ts';
import { evaluateConditions } from '../../../lib/trust/evaluate.ts';
import { awsAllows } from '../../support/iam-simulator.ts';

// Differential test of THE RULE (conditions.ts): fedbroker grants ⇒ AWS IAM grants. The reference
// is @cloud-copilot/iam-simulate, an independent IAM policy simulator that runs offline.
//
// Mapping (claim → request context key; policy key → condition key, same case as written, since
// AWS keys are case-insensitive):
// - a scalar claim `<name>` is the single-valued key `aws:PrincipalTag/<name>` (IAM's key for the
//   session tags fedbroker's role sessions carry); numbers and booleans become their decimal or
//   `true`/`false` text (AWS context values are strings);
// - an array claim is a multivalued key; aws:PrincipalTag is single-valued (the simulator reads only
//   an array's first element), so each claim name has its own ArrayOfString global key instead:
//   env → aws:TagKeys, team → aws:CalledVia, groups → aws:PrincipalOrgPaths;
// - a missing claim is a missing key. Claims that differ only in case are passed as two keys
//   (fedbroker refuses them, so what the simulator makes of them never matters).
// The policy is one Allow statement on `s3:ListBucket` carrying the condition block (keys mapped);
// "grant" is the simulator's `Allowed`.

const NAMES = ['env', 'team', 'groups'];
const keyCase = (name: string) =>
  fc
    .array(fc.boolean(), { minLength: name.length, maxLength: name.length })
    .map((up) => [...name].map((c, i) => (up[i] ? c.toUpperCase() : c)).join(''));

const text = fc
  .array(fc.constantFrom('a', 'b', 'A', '.', '$', '*', '?', '${*}', '${?}', '${$}', '😀'), { maxLength: 5 })
  .map((u) => u.join(''));
const numberText = fc.constantFrom('1', '2.5', '-1', '1e3', '01', '0', '1000');
const STRING_OPS = [
  'StringEquals',
  'StringNotEquals',
  'StringEqualsIgnoreCase',
  'StringNotEqualsIgnoreCase',
  'StringLike',
  'StringNotLike',
];
const NUMERIC_OPS = [
  'NumericEquals',
  'NumericNotEquals',
  'NumericLessThan',
  'NumericLessThanEquals',
  'NumericGreaterThan',
  'NumericGreaterThanEquals',
];
const operator = fc.oneof(
  fc
    .tuple(fc.constantFrom('', 'ForAnyValue:', 'ForAllValues:'), fc.constantFrom(...STRING_OPS), fc.boolean())
    .map(([set, op, ifExists]) => ({ family: 'string', name: `${set}${op}${ifExists ? 'IfExists' : ''}` })),
  fc
    .tuple(fc.constantFrom(...NUMERIC_OPS), fc.boolean())
    .map(([op, ifExists]) => ({ family: 'numeric', name: `${op}${ifExists ? 'IfExists' : ''}` })),
  fc.boolean().map((ifExists) => ({ family: 'bool', name: `Bool${ifExists ? 'IfExists' : ''}` })),
  fc.constant({ family: 'null', name: 'Null' }),
);
const valuesFor = (family: string) =>
  family === 'string'
    ? fc.array(text, { minLength: 1, maxLength: 3 })
    : family === 'numeric'
      ? fc.array(fc.oneof(numberText, fc.integer({ min: -2, max: 1001 })), { minLength: 1, maxLength: 2 })
      : fc.array(fc.constantFrom<string | boolean>(true, false, 'true', 'false'), { minLength: 1, maxLength: 2 });
const pair = fc
  .tuple(operator, fc.constantFrom(...NAMES).chain(keyCase))
  .chain(([op, key]) => fc.tuple(fc.constant(op.name), fc.constant(key), valuesFor(op.family)));
const conditions = fc.array(pair, { minLength: 1, maxLength: 3 }).map((pairs) => {
  const block: Record<string, Record<string, unknown[]>> = {};
  for (const [op, key, values] of pairs) {
    block[op] ??= {};
    block[op][key] = values;
  }
  return block;
});
const claimText = fc.oneof(
  fc.array(fc.constantFrom('a', 'b', 'A', '.', '$', '*', '?', '😀'), { maxLength: 4 }).map((u) => u.join('')),
  numberText,
  fc.constantFrom('true', 'false', 'True', '${*}'),
);
// No empty arrays: the simulator cannot take an empty multivalued key (it throws).
const claimValue = fc.oneof(
  claimText,
  fc.array(claimText, { minLength: 1, maxLength: 3 }),
  fc.integer({ min: -2, max: 1001 }),
  fc.boolean(),
);
// Claim names in random case too: sometimes two that differ only in case (fedbroker refuses those).
const claims = fc.dictionary(
  fc.constantFrom(...NAMES).chain((n) => fc.oneof(fc.constant(n), keyCase(n))),
  claimValue,
  { maxKeys: 4 },
);

const ARRAY_KEYS: Record<string, string> = { env: 'aws:TagKeys', team: 'aws:CalledVia', groups: 'aws:PrincipalOrgPaths' };
const isArrayClaim = (claimSet: Record<string, unknown>, key: string) =>
  Object.entries(claimSet).some(([name, v]) => name.toLowerCase() === key.toLowerCase() && Array.isArray(v));
// The policy key's case carried over to the AWS key: all upper, all lower, or as spelt.
const withCaseOf = (key: string, aws: string) =>
  key === key.toUpperCase() ? aws.toUpperCase() : key === key.toLowerCase() ? aws.toLowerCase() : aws;
const contextKey = (claimSet: Record<string, unknown>, key: string) =>
  isArrayClaim(claimSet, key) ? withCaseOf(key, ARRAY_KEYS[key.toLowerCase()] as string) : `aws:PrincipalTag/${key}`;
const asContext = (v: unknown): string | string[] => (Array.isArray(v) ? v.map(String) : String(v));

async function awsGrants(block: Record<string, Record<string, unknown[]>>, claimSet: Record<string, unknown>): Promise<boolean> {
  const condition = Object.fromEntries(
    Object.entries(block).map(([op, pairs]) => [
      op,
      Object.fromEntries(Object.entries(pairs).map(([k, v]) => [contextKey(claimSet, k), v.map(String)])),
    ]),
  );
  return awsAllows(condition, Object.fromEntries(Object.entries(claimSet).map(([k, v]) => [contextKey(claimSet, k), asContext(v)])));
}

function fedbrokerGrants(block: unknown, claimSet: Record<string, unknown>): boolean {
  try {
    return evaluateConditions(compileConditions(block), claimSet).matched;
  } catch (e) {
    expect(e).toBeInstanceOf(PolicyInvalid); // refused when stored: grants nothing
    return false;
  }
}

describe('conditions against an independent IAM evaluator', () => {
  it('never grant where AWS IAM refuses', async () => {
    let granted = 0;
    await fc.assert(
      fc.asyncProperty(conditions, claims, async (block, claimSet) => {
        if (!fedbrokerGrants(block, claimSet)) return;
        granted++;
        expect(await awsGrants(block, claimSet)).toBe(true);
      }),
      { numRuns: 3000 },
    );
    // Not vacuous: fedbroker granted (and AWS agreed) often enough to mean something.
    expect(granted).toBeGreaterThan(150);
  });

  it('agrees with the simulator on the key-case and policy-variable cases that used to grant', async () => {
    // Each of these granted in fedbroker before the fix and is refused by AWS.
    const cases: [Record<string, Record<string, unknown[]>>, Record<string, unknown>][] = [
      [{ StringEqualsIfExists: { Env: ['prod'] } }, { env: 'dev' }],
      [{ Null: { Env: ['true'] } }, { env: 'dev' }],
    ];
    for (const [block, claimSet] of cases) {
      expect(await awsGrants(block, claimSet)).toBe(false);
      expect(fedbrokerGrants(block, claimSet)).toBe(false);
    }
  });
});

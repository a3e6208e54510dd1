import { describe, expect, it } from 'vitest';
import { PolicyInvalid } from '../../../lib/errors.ts';
import { lookupSteps } from '../../../lib/trust/claims.ts';
import { compileConditions } from '../../../lib/trust/conditions.ts';
import { evaluateConditions } from '../../../lib/trust/evaluate.ts';
import { evaluationWork, REQUEST_BUDGET_STEPS, requestBudget } from '../../../lib/trust/limits.ts';

type Claims = Record<string, unknown>;
const matches = (conditions: unknown, claims: Claims) => evaluateConditions(compileConditions(conditions), claims).matched;

function issuesOf(raw: unknown): string[] {
  try {
    compileConditions(raw);
  } catch (e) {
    expect(e).toBeInstanceOf(PolicyInvalid);
    expect((e as PolicyInvalid).code).toBe('ERR_POLICY_INVALID');
    return [...(e as PolicyInvalid).issues];
  }
  throw new Error('expected PolicyInvalid');
}

describe('combining keys and values (AWS: multiple keys or values)', () => {
  const policy = { StringEquals: { sub: ['repo:a', 'repo:b'], aud: 'sts' }, StringLike: { ref: 'refs/heads/*' } };
  it.each<[string, Claims, boolean]>([
    ['ORs the values of one key (first value)', { sub: 'repo:a', aud: 'sts', ref: 'refs/heads/main' }, true],
    ['ORs the values of one key (second value)', { sub: 'repo:b', aud: 'sts', ref: 'refs/heads/main' }, true],
    ['refuses when no value of a key matches', { sub: 'repo:c', aud: 'sts', ref: 'refs/heads/main' }, false],
    ['ANDs the keys of one operator', { sub: 'repo:a', aud: 'other', ref: 'refs/heads/main' }, false],
    ['ANDs the operators', { sub: 'repo:a', aud: 'sts', ref: 'refs/tags/v1' }, false],
  ])('%s', (_name, claims, expected) => {
    expect(matches(policy, claims)).toBe(expected);
  });

  it('matches everything with an empty conditions object', () => {
    expect(matches({}, {})).toBe(true);
  });

  it('NORs the values of a negated operator', () => {
    expect(matches({ StringNotEquals: { env: ['prod', 'stage'] } }, { env: 'dev' })).toBe(true);
    expect(matches({ StringNotEquals: { env: ['prod', 'stage'] } }, { env: 'stage' })).toBe(false);
  });
});

describe('StringLike wildcards', () => {
  it.each<[string, string, boolean]>([
    ['*', '', true],
    ['*', 'anything at all', true],
    ['**', '', true],
    ['repo:org/*', 'repo:org/', true],
    ['repo:org/*', 'repo:org/x:ref:refs/heads/main', true],
    ['repo:org/*', 'repo:other/x', false],
    ['a*b', 'ab', true],
    ['a*b', 'axxb', true],
    ['a*b', 'axxbc', false],
    ['a*a', 'a', false],
    ['*x*', 'x', true],
    ['?', 'a', true],
    ['?', '', false],
    ['?', 'ab', false],
    ['???', 'abc', true],
    ['???', 'ab', false],
    ['?', 'é', true],
    ['?*', '', false],
    ['*?', 'a', true],
    ['a?c*', 'abcdef', true],
    ['a?c*', 'acdef', false],
    ['a.c', 'a.c', true],
    ['a.c', 'abc', false],
    ['a+', 'a+', true],
    ['a+', 'aa', false],
    ['(x)', '(x)', true],
    ['(x)', 'x', false],
    ['[ab]', '[ab]', true],
    ['[ab]', 'a', false],
    ['a\\d', 'a\\d', true],
    ['a\\d', 'a1', false],
    ['^a$|b', '^a$|b', true],
    ['a|b', 'a', false],
    ['x{2}', 'xx', false],
    ['a-b/c', 'a-b/c', true],
    ['Repo:*', 'repo:x', false],
    ['repo:*', 'REPO:x', false],
  ])('pattern %j against %j is %s', (pattern, value, expected) => {
    expect(matches({ StringLike: { sub: pattern } }, { sub: value })).toBe(expected);
    expect(matches({ StringNotLike: { sub: pattern } }, { sub: value })).toBe(!expected);
  });

  it.each<[string, string, string, boolean]>([
    ['many stars', `${'*a'.repeat(200)}*b`, 'a'.repeat(1000), false],
    ['a long ? run against astral characters', `${'?'.repeat(500)}x`, '😀'.repeat(512), false],
    ['a long ? run that matches', '?'.repeat(511), 'é'.repeat(511), true],
  ])('matches %s in one pass over the claim (steps counted, not timed)', (_name, pattern, claim, expected) => {
    // A backtracking matcher needs up to n^k steps here; the Shift-And matcher reads each code
    // point once, costing ⌈(non-star tokens + 1) / 32⌉ words per code point (lib/trust/wildcard.ts).
    const compiled = compileConditions({ StringLike: { sub: pattern } });
    const words = Math.ceil(([...pattern].filter((c) => c !== '*').length + 1) / 32);
    const before = evaluationWork.steps;
    expect(evaluateConditions(compiled, { sub: claim }).matched).toBe(expected);
    const steps = evaluationWork.steps - before;
    expect(steps).toBeGreaterThan(0);
    // Plus the lookup of the claim key (claims.ts).
    expect(steps).toBeLessThanOrEqual([...claim].length * words + lookupSteps('sub'));
  });

  it.each<[string, string, boolean]>([
    ['a${*}', 'a*', true],
    ['a${*}', 'ab', false],
    ['${?}', '?', true],
    ['${?}', 'x', false],
    ['$${$}{x}', '$${x}', true],
    ['*${*}', 'abc*', true],
    ['*${*}', 'abc', false],
    ['${$}*', '$x', true],
    ['a$', 'a$', true],
  ])('reads the escape in %j as a literal character (against %j: %s)', (pattern, value, expected) => {
    expect(matches({ StringLike: { sub: pattern } }, { sub: value })).toBe(expected);
    expect(matches({ StringNotLike: { sub: pattern } }, { sub: value })).toBe(!expected);
  });
});

describe('string operators', () => {
  it.each<[string, string | string[], unknown, boolean]>([
    ['StringEquals', 'main', 'main', true],
    ['StringEquals', 'main', 'Main', false],
    ['StringEqualsIgnoreCase', 'main', 'MAIN', true],
    ['StringEqualsIgnoreCase', 'main', 'mane', false],
    ['StringNotEqualsIgnoreCase', 'main', 'MAIN', false],
    ['StringNotEqualsIgnoreCase', 'main', 'dev', true],
    ['StringEquals', '5', 5, false],
    ['StringEquals', 'true', true, false],
    ['StringEquals', '[object Object]', {}, false],
    ['StringNotEquals', 'x', 5, false],
    ['StringNotEquals', 'x', { a: 1 }, false],
    ['StringNotLike', 'x*', null, false],
    ['StringEquals', 'x', null, false],
    ['StringEquals', 'a*', 'a*', true],
    ['StringEquals', 'a*', 'ab', false],
    ['StringEquals', 'a?', 'ab', false],
    ['StringNotEquals', 'a$', 'a$', false],
  ])('%s %j against claim %j is %s', (operator, value, claim, expected) => {
    expect(matches({ [operator]: { c: value } }, { c: claim })).toBe(expected);
  });
});

describe('set operators (AWS: single-valued vs multivalued context keys)', () => {
  it.each<[string, string | string[], unknown, boolean]>([
    ['ForAnyValue:StringEquals', 'admin', ['dev', 'admin'], true],
    ['ForAnyValue:StringEquals', 'admin', ['dev'], false],
    ['ForAnyValue:StringEquals', 'admin', [], false],
    ['ForAnyValue:StringEquals', 'admin', undefined, false],
    ['ForAnyValue:StringEquals', 'admin', 'admin', true],
    ['ForAnyValue:StringEqualsIfExists', 'admin', undefined, false],
    ['ForAnyValue:StringEqualsIfExists', 'admin', [], false],
    ['ForAnyValue:StringLike', 'team-*', ['x', 'team-a'], true],
    ['ForAnyValue:StringEqualsIgnoreCase', 'admin', ['ADMIN'], true],
    ['ForAnyValue:StringNotEquals', 'a', ['a', 'b'], true],
    ['ForAnyValue:StringNotEquals', 'a', ['a'], false],
    ['ForAllValues:StringEquals', ['a', 'b'], ['a', 'b'], true],
    ['ForAllValues:StringEquals', ['a', 'b'], ['a', 'c'], false],
    ['ForAllValues:StringEquals', ['a', 'b'], ['a', 1], false],
    ['ForAllValues:StringEquals', 'a', [], false],
    ['ForAllValues:StringEquals', 'a', undefined, false],
    ['ForAllValues:StringEqualsIfExists', 'a', [], true],
    ['ForAllValues:StringEqualsIfExists', 'a', undefined, true],
    ['ForAllValues:StringEqualsIfExists', 'a', ['b'], false],
    ['ForAllValues:StringLike', 'team-*', ['team-a', 'team-b'], true],
    ['ForAllValues:StringNotLike', 'admin*', ['dev', 'ops'], true],
    ['ForAllValues:StringNotEquals', 'a', ['b', 'a'], false],
  ])('%s %j against claim %j is %s', (operator, value, claim, expected) => {
    expect(matches({ [operator]: { groups: value } }, claim === undefined ? {} : { groups: claim })).toBe(expected);
  });

  it('refuses a claim array too long to evaluate cheaply', () => {
    expect(matches({ 'ForAnyValue:StringEquals': { g: 'x' } }, { g: [...Array<string>(100).fill('y'), 'x'] })).toBe(false);
    expect(matches({ 'ForAnyValue:StringEquals': { g: 'x' } }, { g: [...Array<string>(99).fill('y'), 'x'] })).toBe(true);
  });

  it.each([
    ['StringEquals', 'a'],
    ['StringNotEquals', 'b'],
    ['StringLike', '*'],
    ['StringEqualsIfExists', 'a'],
    ['NumericEquals', 1],
    ['Bool', true],
  ])('refuses a single-valued %s on an array claim', (operator, value) => {
    expect(matches({ [operator]: { c: value } }, { c: [value] })).toBe(false);
  });
});

describe('missing claims and IfExists', () => {
  it.each<[string, unknown, unknown, unknown]>([
    ['StringEquals', 'a', 'a', 'b'],
    ['StringNotEquals', 'a', 'b', 'a'],
    ['StringEqualsIgnoreCase', 'a', 'A', 'b'],
    ['StringNotEqualsIgnoreCase', 'a', 'b', 'A'],
    ['StringLike', 'a*', 'ab', 'b'],
    ['StringNotLike', 'a*', 'b', 'ab'],
    ['Bool', true, true, false],
    ['NumericEquals', 1, 1, 2],
    ['NumericNotEquals', 1, 2, 1],
    ['NumericLessThan', 1, 0, 1],
    ['NumericLessThanEquals', 1, 1, 2],
    ['NumericGreaterThan', 1, 2, 1],
    ['NumericGreaterThanEquals', 1, 1, 0],
  ])('%s fails closed on a missing claim; its IfExists form passes and still checks a present claim', (operator, value, good, bad) => {
    expect(matches({ [operator]: { c: value } }, {})).toBe(false);
    expect(matches({ [`${operator}IfExists`]: { c: value } }, {})).toBe(true);
    expect(matches({ [`${operator}IfExists`]: { c: value } }, { c: good })).toBe(true);
    expect(matches({ [`${operator}IfExists`]: { c: value } }, { c: bad })).toBe(false);
  });

  it.each<[unknown, Claims, boolean]>([
    [true, {}, true],
    [true, { c: 'x' }, false],
    [true, { c: null }, false],
    [true, { c: [] }, false],
    [false, {}, false],
    [false, { c: 'x' }, true],
    ['true', {}, true],
    ['false', { c: 0 }, true],
  ])('Null %j on claims %j is %s', (value, claims, expected) => {
    expect(matches({ Null: { c: value } }, claims)).toBe(expected);
  });
});

describe('Numeric and Bool operators', () => {
  it.each<[string, unknown, unknown, boolean]>([
    ['NumericLessThan', 10, '9', true],
    ['NumericLessThan', '10', 9.5, true],
    ['NumericLessThan', 10, 10, false],
    ['NumericEquals', '42', 42, true],
    ['NumericEquals', 1000, '1e3', false],
    ['NumericEquals', 1, '1e0', false],
    ['NumericGreaterThan', 0, 1e21, false],
    ['NumericEquals', 1000, '1000.0', true],
    ['NumericEquals', 5, ' 5', false],
    ['NumericEquals', 1, true, false],
    ['NumericGreaterThanEquals', -1, '-1', true],
    ['NumericGreaterThan', 0, 'abc', false],
    ['NumericNotEquals', ['1', '2'], 3, true],
    ['NumericNotEquals', ['1', '2'], 2, false],
    ['NumericNotEquals', 1, 'abc', false],
    ['Bool', true, true, true],
    ['Bool', true, 'true', true],
    ['Bool', 'false', false, true],
    ['Bool', true, 'True', false],
    ['Bool', true, 1, false],
  ])('%s %j against claim %j is %s', (operator, value, claim, expected) => {
    expect(matches({ [operator]: { c: value } }, { c: claim })).toBe(expected);
  });
});

describe('claim keys', () => {
  const eq = (key: string, value: string) => ({ StringEquals: { [key]: value } });
  const both = { 'kubernetes.io': { namespace: 'a' }, kubernetes: { io: { namespace: 'b' } } };
  it.each<[string, string, Claims, string, boolean]>([
    ['a literal dotted key', 'kubernetes.io.namespace', { 'kubernetes.io': { namespace: 'prod' } }, 'prod', true],
    ['nested objects', 'kubernetes.io.namespace', { kubernetes: { io: { namespace: 'prod' } } }, 'prod', true],
    ['the longest literal key first', 'kubernetes.io.namespace', both, 'a', true],
    ['no fallback after the longest key', 'kubernetes.io.namespace', both, 'b', false],
    ['a whole dotted top-level key', 'a.b', { 'a.b': 'x', a: { b: 'y' } }, 'x', true],
    ['no backtracking past a matched prefix', 'a.b.c', { 'a.b': {}, a: { b: { c: 'x' } } }, 'x', false],
    ['no array indices through dots', 'groups.0', { groups: ['a'] }, 'a', false],
    ['a JSON pointer', '/kubernetes.io/namespace', { 'kubernetes.io': { namespace: 'prod' } }, 'prod', true],
    ['a JSON pointer with ~1', '/a~1b', { 'a/b': 'x' }, 'x', true],
    ['a JSON pointer with ~0', '/a~0b', { 'a~b': 'x' }, 'x', true],
    ['~01 as "~1", not "/"', '/a~01', { 'a~1': 'x', 'a/': 'y' }, 'x', true],
    ['a JSON pointer array index', '/groups/1', { groups: ['a', 'b'] }, 'b', true],
    ['no non-canonical array index', '/groups/01', { groups: ['a', 'b'] }, 'b', false],
    ['no array length', '/groups/length', { groups: ['a', 'b'] }, '2', false],
    ['an own __proto__ key never', '__proto__', JSON.parse('{"__proto__":"x"}') as Claims, 'x', false],
    ['an own __proto__ pointer never', '/__proto__', JSON.parse('{"__proto__":"x"}') as Claims, 'x', false],
    ['a nested constructor never', 'a.constructor', { a: { constructor: 'x' } }, 'x', false],
  ])('resolves %s', (_name, key, claims, value, expected) => {
    expect(matches(eq(key, value), claims)).toBe(expected);
  });

  it.each(['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'a.__proto__', '/constructor', '/__proto__/x'])(
    'treats inherited key %j as missing',
    (key) => {
      expect(matches({ Null: { [key]: true } }, { a: {} })).toBe(true);
    },
  );
});

describe('evaluation never throws and explains itself', () => {
  const compiled = compileConditions({
    StringEquals: { sub: 'x', 'a.b': 'y' },
    'ForAnyValue:StringLike': { groups: '*' },
    Null: { n: false },
  });

  it.each<[string, () => unknown]>([
    [
      'cyclic objects',
      () => {
        const a: Claims = { sub: 'x' };
        a.a = a;
        a.groups = [a];
        return a;
      },
    ],
    [
      'a throwing proxy',
      () =>
        new Proxy(
          {},
          {
            getOwnPropertyDescriptor: () => {
              throw new Error('boom');
            },
          },
        ),
    ],
    [
      'a getter (never invoked)',
      () =>
        Object.defineProperty({}, 'sub', {
          get: () => {
            throw new Error('boom');
          },
          enumerable: true,
        }),
    ],
    ['null claims', () => null],
    ['a huge array', () => ({ groups: new Array(1e6) })],
    ['non-plain objects', () => ({ sub: new Date(), a: new Map([['b', 'y']]), groups: new Set(['x']) })],
  ])('refuses %s without throwing', (_name, make) => {
    const result = evaluateConditions(compiled, make() as Claims);
    expect(result.matched).toBe(false);
    expect(result.checks).toHaveLength(4);
  });

  it('lists every check with what it saw, truncated', () => {
    const result = evaluateConditions(compiled, { sub: 'z'.repeat(1000), a: { b: 'y' }, groups: [{ x: 1 }, 'g', [1]], n: 1 });
    expect(result.matched).toBe(false);
    expect(result.checks).toEqual([
      { operator: 'StringEquals', key: 'sub', matched: false, seen: 'z'.repeat(256) },
      { operator: 'StringEquals', key: 'a.b', matched: true, seen: 'y' },
      { operator: 'ForAnyValue:StringLike', key: 'groups', matched: true, seen: ['[object]', 'g', '[array]'] },
      { operator: 'Null', key: 'n', matched: true, seen: 1 },
    ]);
  });
});

describe('validation', () => {
  const long = 'k'.repeat(257);
  const keys = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'x']));
  const values = (n: number, each: number) =>
    Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, Array.from({ length: each }, String)]));
  it.each<[string, unknown, string]>([
    ['conditions that are null', null, 'conditions: must be an object'],
    ['conditions that are an array', [], 'conditions: must be an object'],
    ['an unknown operator', { StringEqual: { sub: 'x' } }, 'conditions.StringEqual: unknown condition operator'],
    ['a lower-cased operator', { stringequals: { sub: 'x' } }, 'conditions.stringequals: unknown'],
    [
      'an unknown set operator',
      { 'ForSomeValues:StringEquals': { sub: 'x' } },
      'conditions["ForSomeValues:StringEquals"]: unknown set operator',
    ],
    ['a set operator on Numeric', { 'ForAnyValue:NumericEquals': { n: 1 } }, 'conditions["ForAnyValue:NumericEquals"]: set operators'],
    ['a set operator on Null', { 'ForAllValues:Null': { n: true } }, 'conditions["ForAllValues:Null"]: set operators'],
    ['NullIfExists', { NullIfExists: { n: true } }, 'conditions.NullIfExists: Null has no IfExists form'],
    ['a bare IfExists', { IfExists: { n: true } }, 'conditions.IfExists: unknown condition operator'],
    ['an operator block that is an array', { StringEquals: ['x'] }, 'conditions.StringEquals: must be an object'],
    ['an empty operator block', { StringEquals: {} }, 'conditions.StringEquals: must name at least one claim key'],
    ['an empty value list', { StringEquals: { sub: [] } }, 'conditions.StringEquals["sub"]: must list at least one value'],
    ['a StringLike pattern that is a number', { StringLike: { sub: ['a', 1] } }, 'conditions.StringLike["sub"][1]: must be a string'],
    ['a StringEquals value that is null', { StringEquals: { sub: null } }, 'conditions.StringEquals["sub"]: must be a string'],
    ['a nested array value', { StringEquals: { sub: [['x']] } }, 'conditions.StringEquals["sub"][0]: must be a string'],
    ['a non-numeric Numeric value', { NumericLessThan: { n: 'ten' } }, 'conditions.NumericLessThan["n"]: must be a finite number'],
    ['an infinite Numeric value', { NumericLessThan: { n: '1e999' } }, 'conditions.NumericLessThan["n"]: must be a finite number'],
    [
      'a Numeric value with an exponent',
      { NumericLessThan: { n: '1e3' } },
      'conditions.NumericLessThan["n"]: must be a finite number or a numeric string',
    ],
    [
      'a JSON number written with an exponent',
      { NumericLessThan: { n: 1e21 } },
      'conditions.NumericLessThan["n"]: must be a finite number or a numeric string',
    ],
    ['a non-boolean Bool value', { Bool: { b: 'yes' } }, 'conditions.Bool["b"]: must be true or false'],
    ['a non-boolean Null value', { Null: { n: [1] } }, 'conditions.Null["n"][0]: must be true or false'],
    ['an empty claim key', { StringEquals: { '': 'x' } }, 'conditions.StringEquals[""]: claim key must not be empty'],
    ['a claim key longer than 256 characters', { StringEquals: { [long]: 'x' } }, 'claim key must be at most 256 characters'],
    ['a JSON pointer with a bad escape', { StringEquals: { '/a~2': 'x' } }, 'conditions.StringEquals["/a~2"]: invalid JSON Pointer escape'],
    [
      'a pattern longer than 512 characters',
      { StringLike: { sub: 'x'.repeat(513) } },
      'conditions.StringLike["sub"]: must be at most 512 characters',
    ],
    [
      'a StringEquals value longer than 512 characters',
      { StringEquals: { sub: ['x', 'x'.repeat(513)] } },
      'conditions.StringEquals["sub"][1]: must be at most 512 characters',
    ],
    [
      'a policy variable',
      { StringNotEquals: { ref: 'refs/heads/${aws:username}' } },
      'conditions.StringNotEquals["ref"]: must not contain a policy variable ("${…}"): fedbroker does not ' +
        'substitute them; write ${*}, ${?} or ${$} for a literal *, ? or $',
    ],
    ['an unterminated escape', { StringLike: { sub: ['a${*'] } }, 'conditions.StringLike["sub"][0]: must not contain a policy variable'],
    ['an unknown escape', { StringEquals: { sub: '${a}' } }, 'conditions.StringEquals["sub"]: must not contain a policy variable'],
    ...['StringEquals', 'StringNotEquals', 'StringEqualsIgnoreCase', 'ForAnyValue:StringNotEqualsIgnoreCase'].map(
      (operator): [string, unknown, string] => [
        `an escape in ${operator}`,
        { [operator]: { sub: 'a${*}' } },
        `conditions${operator.includes(':') ? `["${operator}"]` : `.${operator}`}["sub"]: must not contain ` +
          `\${*}, \${?} or \${$} outside StringLike/StringNotLike (here * ? $ are already literal: write them ` +
          `as they are)`,
      ],
    ),
    [
      'a value with a lone surrogate',
      { StringLike: { sub: ['ok', 'a\uD83D*'] } },
      'conditions.StringLike["sub"][1]: must be well-formed Unicode',
    ],
    [
      'more than 50 values for one key',
      { StringEquals: { sub: Array.from({ length: 51 }, String) } },
      'conditions.StringEquals["sub"]: must list at most 50 values, found 51',
    ],
    [
      'more than 50 operator/key pairs',
      { StringEquals: keys(30), StringLike: keys(21) },
      'conditions: at most 50 operator/claim-key pairs are allowed, found 51',
    ],
    [
      'more than 200 values in all',
      { StringEquals: values(4, 50), StringLike: values(1, 1) },
      'conditions: at most 200 values over all operator/claim-key pairs are allowed, found 201',
    ],
  ])('refuses %s', (_name, raw, expected) => {
    const issues = issuesOf(raw);
    expect(issues.join('\n')).toContain(expected);
  });

  it('names a long claim key by a truncated path', () => {
    expect(issuesOf({ StringEquals: { [long]: 'x' } })[0]).toMatch(/^conditions\.StringEquals\["k{64}…"\]: /);
  });

  it('lists every issue at once', () => {
    const issues = issuesOf({ Nope: {}, StringLike: { sub: [1, 'ok', false] }, Bool: { b: 'maybe' } });
    expect(issues).toEqual([
      'conditions.Nope: unknown condition operator',
      'conditions.StringLike["sub"][0]: must be a string',
      'conditions.StringLike["sub"][2]: must be a string',
      'conditions.Bool["b"]: must be true or false',
    ]);
  });

  it('puts the issues in the error message', () => {
    expect(() => compileConditions({ StringLike: { sub: 7 } })).toThrow(/conditions\.StringLike\["sub"\]: must be a string/);
  });
});

describe('characters outside the Basic Multilingual Plane (review: `?` is a code point here, a UTF-16 unit elsewhere)', () => {
  it.each<[string, string, string, boolean]>([
    ['StringLike', 'repo:acme/?', 'repo:acme/😀', false],
    ['StringLike', '?', '😀', false],
    ['StringNotLike', 'a??', 'a😀', false],
    ['StringLike', 'repo:acme/*', 'repo:acme/😀', true],
    ['StringLike', 'repo:acme/?', 'repo:acme/x', true],
    ['StringEqualsIgnoreCase', 'team-𐐀', 'team-𐐨', false],
    ['StringEqualsIgnoreCase', 'team-𐐀', 'team-𐐀', true],
    ['StringEqualsIgnoreCase', 'TEAM-a', 'team-A', true],
  ])('%s %s against %s: %s (fails closed where two readings of AWS could differ)', (operator, value, claim, expected) => {
    expect(evaluateConditions(compileConditions({ [operator]: { c: value } }), { c: claim }).matched).toBe(expected);
  });
});

describe('*IgnoreCase folding under the request budget', () => {
  it('charges a claim string by its length, once per request however many relationships read it', () => {
    const claim = 'Ab'.repeat(500);
    const compiled = compileConditions({ StringEqualsIgnoreCase: { c: 'x' } });
    const budget = requestBudget();
    evaluateConditions(compiled, { c: claim }, budget);
    const once = REQUEST_BUDGET_STEPS - budget.remaining;
    expect(once).toBeGreaterThanOrEqual(claim.length / 4);
    const claims = { c: claim };
    const shared = requestBudget();
    for (let i = 0; i < 100; i++) evaluateConditions(compiled, claims, shared);
    // 100 relationships reading the same claim in one request: folded (and charged) once, then one step each.
    expect(REQUEST_BUDGET_STEPS - shared.remaining).toBeLessThanOrEqual(once + 2 * 100);
  });
});

describe('values whose reading AWS leaves open fail closed (review)', () => {
  it.each<[string, unknown, unknown]>([
    ['more than 15 significant digits, as a claim', '9007199254740993', 5],
    ['more than 15 significant digits after the point', '1.0000000000000000001', 1],
  ])('Numeric: %s matches nothing, NumericNotEquals included', (_name, claim, value) => {
    expect(evaluateConditions(compileConditions({ NumericEquals: { n: value } }), { n: claim }).matched).toBe(false);
    expect(evaluateConditions(compileConditions({ NumericNotEquals: { n: 0 } }), { n: claim }).matched).toBe(false);
  });

  it('Numeric: a policy value with more than 15 significant digits is refused when stored', () => {
    expect(() => compileConditions({ NumericEquals: { n: '9007199254740993' } })).toThrow(/at most 15 significant digits/);
  });

  it.each<[string, unknown]>([
    ['an empty string', ''],
    ['an empty array', []],
  ])('Null: a claim holding %s passes neither Null true nor Null false', (_name, value) => {
    expect(evaluateConditions(compileConditions({ Null: { c: true } }), { c: value }).matched).toBe(false);
    expect(evaluateConditions(compileConditions({ Null: { c: false } }), { c: value }).matched).toBe(false);
  });
});

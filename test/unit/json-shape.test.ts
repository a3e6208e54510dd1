import { describe, expect, it } from 'vitest';
import { describeJsonShapeIssue, jsonShapeIssue, MAX_JSON_DEPTH } from '../../lib/json-shape.ts';

const nested = (depth: number, open = '{"a":', close = '}') => `${open.repeat(depth)}1${close.repeat(depth)}`;

describe('jsonShapeIssue', () => {
  it.each<[string, string, string | undefined]>([
    ['a repeated top-level name', '{"scopes":["a"],"scopes":["admin"]}', 'scopes'],
    ['a repeated condition operator', '{"conditions":{"StringEquals":{"sub":"a"},"StringEquals":{"sub":"*"}}}', 'StringEquals'],
    ['a repeated name in an object inside an array', '{"keys":[{"kid":"1"},{"kid":"2","kid":"3"}]}', 'kid'],
    ['the same name spelled with an escape', '{"a":1,"\\u0061":2}', 'a'],
    ['a repeat after a nested object closes', '{"a":{"b":1},"c":[1,{"d":2}],"a":3}', 'a'],
    ['the same name in sibling objects', '{"x":{"a":1},"y":{"a":2}}', undefined],
    ['a value equal to a name', '{"a":"b","b":"a"}', undefined],
    ['braces, commas and escaped quotes inside strings', '{"a":"{\\"a\\":1,\\"a\\":2}","b":"[,]"}', undefined],
    ['strings in an array (never names)', '{"a":["a","a"]}', undefined],
    ['a value that is not an object', '"a,a"', undefined],
  ])('finds %s', (_, json, member) => {
    JSON.parse(json); // every case is JSON that JSON.parse accepts
    expect(jsonShapeIssue(json)).toEqual(member === undefined ? undefined : { kind: 'duplicate', member });
  });

  it.each<[string, string, boolean]>([
    [`objects ${MAX_JSON_DEPTH} deep`, nested(MAX_JSON_DEPTH), true],
    [`objects ${MAX_JSON_DEPTH + 1} deep`, nested(MAX_JSON_DEPTH + 1), false],
    [`arrays ${MAX_JSON_DEPTH + 1} deep`, nested(MAX_JSON_DEPTH + 1, '[', ']'), false],
    [`arrays and objects mixed, ${MAX_JSON_DEPTH + 1} deep`, nested((MAX_JSON_DEPTH + 1) / 3, '{"a":[[', ']]}'), false],
    ['brackets inside strings (not nesting)', `{"a":"${'['.repeat(100)}"}`, true],
  ])('accepts or refuses %s', (_, json, accepted) => {
    JSON.parse(json);
    expect(jsonShapeIssue(json)).toEqual(accepted ? undefined : { kind: 'depth', maxDepth: MAX_JSON_DEPTH });
  });

  it('walks 100,000 levels without exhausting the stack when no depth limit is set', () => {
    expect(jsonShapeIssue(nested(100_000), Infinity)).toBeUndefined();
    const deepRepeat = `${'{"x":['.repeat(1000)}{"a":0,"a":1}${']}'.repeat(1000)}`;
    JSON.parse(deepRepeat);
    expect(jsonShapeIssue(deepRepeat, Infinity)).toEqual({ kind: 'duplicate', member: 'a' });
  });

  it('describes an issue on one line, quoting at most 64 characters of a member name', () => {
    expect(describeJsonShapeIssue('f.json', { kind: 'duplicate', member: `x\n${'y'.repeat(100)}` })).toBe(
      `f.json repeats the member "x\\n${'y'.repeat(62)}" within one object`,
    );
    expect(describeJsonShapeIssue('body', { kind: 'depth', maxDepth: 32 })).toBe('body is nested deeper than 32 levels');
  });
});

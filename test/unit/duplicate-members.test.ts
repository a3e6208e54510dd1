import { describe, expect, it } from 'vitest';
import { duplicateMember } from '../../lib/duplicate-members.ts';

describe('duplicateMember', () => {
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
  ])('%s', (_, json, expected) => {
    JSON.parse(json); // every case is JSON that JSON.parse accepts
    expect(duplicateMember(json)).toBe(expected);
  });

  it('walks 100,000 levels of nesting without exhausting the stack', () => {
    const deep = `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`;
    expect(duplicateMember(deep)).toBeUndefined();
    const deepRepeat = `${'{"x":['.repeat(1000)}{"a":0,"a":1}${']}'.repeat(1000)}`;
    JSON.parse(deepRepeat);
    expect(duplicateMember(deepRepeat)).toBe('a');
  });
});

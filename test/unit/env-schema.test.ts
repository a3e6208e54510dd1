import { describe, expect, it } from 'vitest';
import { choice, integer, readEnv, text } from '../../lib/env-schema.ts';

const rules = {
  NAME: text({ required: true, pattern: /^[a-z]{3,8}$/, message: 'must be a short name' }),
  NOTE: text(),
  DIR: text({ default: '.data' }),
  MODE: choice(['on', 'off'], 'off'),
  TTL: integer(900, { min: 1, max: 3600 }),
};
const read = (env: Record<string, string | undefined>) => readEnv(rules, { NAME: 'fedb', ...env });

describe('readEnv', () => {
  it('gives every unset variable its default and an unset optional string undefined', () => {
    expect(read({}).values).toEqual({ NAME: 'fedb', NOTE: undefined, DIR: '.data', MODE: 'off', TTL: 900 });
  });

  it('keeps a set empty string as a value: only an unset variable takes the default', () => {
    expect(read({ NOTE: '', DIR: '' }).values).toMatchObject({ NOTE: '', DIR: '' });
  });

  it('reads set values', () => {
    expect(read({ MODE: 'on', TTL: '3600', NOTE: 'x' }).values).toMatchObject({ MODE: 'on', TTL: 3600, NOTE: 'x' });
  });

  it.each([
    ['a required variable unset', { NAME: undefined }, 'NAME: is required'],
    ['a string outside its pattern', { NAME: 'Fedbroker!' }, 'NAME: must be a short name'],
    ['a value outside the choices', { MODE: 'maybe' }, 'MODE: must be one of "on", "off"'],
    ['a choice in another case', { MODE: 'ON' }, 'MODE: must be one of "on", "off"'],
    ['an empty integer', { TTL: '' }, 'TTL: must be a whole number'],
    ['an exponent', { TTL: '1e3' }, 'TTL: must be a whole number'],
    ['hex', { TTL: '0x10' }, 'TTL: must be a whole number'],
    ['blanks', { TTL: ' 5' }, 'TTL: must be a whole number'],
    ['a sign', { TTL: '-5' }, 'TTL: must be a whole number'],
    ['a fraction', { TTL: '5.5' }, 'TTL: must be a whole number'],
    ['more digits than a safe integer holds', { TTL: '1234567890123456' }, 'TTL: must be a whole number'],
    ['an integer below its minimum', { TTL: '0' }, 'TTL: must be at least 1'],
    ['an integer above its maximum', { TTL: '3601' }, 'TTL: must be at most 3600'],
  ])('refuses %s', (_name, env, issue) => {
    expect(read(env)).toEqual({ issues: [issue] });
  });

  it('reports every problem at once, in the order the rules declare them', () => {
    expect(read({ NAME: 'X', MODE: 'maybe', TTL: 'soon' }).issues).toEqual([
      'NAME: must be a short name',
      'MODE: must be one of "on", "off"',
      'TTL: must be a whole number',
    ]);
  });

  it("reads only the environment's own variables, never inherited ones", () => {
    const env = Object.create({ MODE: 'on' }) as Record<string, string>;
    env.NAME = 'fedb';
    expect(readEnv(rules, env).values?.MODE).toBe('off');
  });

  it('describes itself for the docs: defaults, choices and bounds', () => {
    expect(rules.MODE).toMatchObject({ kind: 'choice', default: 'off', choices: ['on', 'off'] });
    expect(rules.TTL).toMatchObject({ kind: 'integer', default: 900, min: 1, max: 3600 });
    expect(rules.NOTE.default).toBeUndefined();
  });
});

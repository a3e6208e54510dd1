import { describe, expect, it } from 'vitest';
import { escapeUnprintable } from '../../../cli/output.ts';

describe('escapeUnprintable', () => {
  it.each([
    ['a C1 control sequence introducer', 'a\u009b8mb', 'a\\u009b8mb'],
    ['an ANSI escape', 'a\u001b[8mb', 'a\\u001b[8mb'],
    ['a bidi override', 'x\u202ey', 'x\\u202ey'],
    ['a zero-width space', 'x\u200by', 'x\\u200by'],
    ['a line separator', 'x\u2028y', 'x\\u2028y'],
    ['tab and newline, kept', 'a\tb\nc', 'a\tb\nc'],
    ['plain text and non-Latin letters, kept', 'repo:acme/app ünïcode 日本', 'repo:acme/app ünïcode 日本'],
  ])('shows %s as the terminal may print it', (_, input, expected) => {
    expect(escapeUnprintable(input)).toBe(expected);
  });
});

import { describe, expect, it } from 'vitest';
import { SubjectTokenInvalid } from '../../../lib/errors.ts';
import { checkSubjectTemplate, MAX_SUBJECT_LENGTH, renderSubject } from '../../../lib/trust/subject.ts';

const ctx = (claims: Record<string, unknown>) => ({ tenant: 'acme', trust: 'gha', claims });
const render = (value: unknown, template = 'ci/{claims.sub}') => renderSubject(template, ctx({ sub: value }));
const templateIssues = (template: string) => {
  const issues: string[] = [];
  checkSubjectTemplate(template, issues);
  return issues;
};

function refusal(fn: () => unknown): SubjectTokenInvalid {
  try {
    fn();
  } catch (e) {
    if (e instanceof SubjectTokenInvalid) return e;
    throw e;
  }
  throw new Error('not refused');
}

// One row per refused class: a character of that class inside an otherwise valid value, and the
// exact reason given both when rendered from a claim and when written into a template.
const CHARACTER_CLASSES: [string, string, string][] = [
  ['NUL (Cc)', '\u0000', 'control characters'],
  ['line feed (Cc)', '\n', 'control characters'],
  ['DEL (Cc)', '\u007f', 'control characters'],
  ['C1 CSI (Cc)', '\u009b', 'control characters'],
  ['zero-width space (Cf)', '\u200b', 'format characters (zero-width, bidi or other invisible characters)'],
  ['zero-width joiner (Cf)', '\u200d', 'format characters (zero-width, bidi or other invisible characters)'],
  ['right-to-left mark (Cf)', '\u200f', 'format characters (zero-width, bidi or other invisible characters)'],
  ['right-to-left override (Cf)', '\u202e', 'format characters (zero-width, bidi or other invisible characters)'],
  ['first strong isolate (Cf)', '\u2068', 'format characters (zero-width, bidi or other invisible characters)'],
  ['byte order mark (Cf)', '\ufeff', 'format characters (zero-width, bidi or other invisible characters)'],
  ['soft hyphen (Cf)', '\u00ad', 'format characters (zero-width, bidi or other invisible characters)'],
  ['tag character (Cf)', '\u{e0041}', 'format characters (zero-width, bidi or other invisible characters)'],
  ['line separator (Zl)', '\u2028', 'line or paragraph separators'],
  ['paragraph separator (Zp)', '\u2029', 'line or paragraph separators'],
  ['lone high surrogate (Cs)', '\ud800', 'lone surrogates'],
  ['lone low surrogate (Cs)', '\udfff', 'lone surrogates'],
  ['private use (Co)', '\ue000', 'private-use characters'],
  ['supplementary private use (Co)', '\u{f0000}', 'private-use characters'],
  ['unassigned (Cn)', '\u0378', 'unassigned code points'],
  ['noncharacter (Cn)', '\uffff', 'unassigned code points'],
];

const NOT_NFKC: [string, string][] = [
  ['the fi ligature', 'con\ufb01g'],
  ['fullwidth letters', '\uff41\uff44\uff4d\uff49\uff4e'],
  ['a decomposed é (e + U+0301)', 'caf\u0065\u0301'],
  ['superscript two', 'x\u00b2'],
];

const DOT_SEGMENTS: [string, string, string][] = [
  ['a ".." segment', 'ci/{claims.sub}', '..'],
  ['a "." segment', 'ci/{claims.sub}', '.'],
  ['a ".." segment inside a value', 'ci/{claims.sub}', 'a/../b'],
  ['a value ending in "/."', 'ci/{claims.sub}', 'a/.'],
  ['a value that is the whole rest', '{claims.sub}', '../other-tenant/x'],
];

describe('renderSubject', () => {
  it('renders <tenant>/<template> with claims, trust and tenant', () => {
    expect(renderSubject('{trust}/{claims.sub}/{tenant}', ctx({ sub: 'repo:acme/app' }))).toBe('acme/gha/repo:acme/app/acme');
    expect(render(42)).toBe('acme/ci/42');
  });

  it('keeps names that are NFKC already, in any script, and dots inside segments', () => {
    for (const value of ['café', 'Ωμέγα', '東京', 'user.name', '.hidden', 'a..b', '...']) expect(render(value)).toBe(`acme/ci/${value}`);
  });

  it.each(CHARACTER_CLASSES)('refuses a claim with a %s', (_, char, reason) => {
    const e = refusal(() => render(`dev${char}ops`));
    expect(e.reason).toBe('subject');
    expect(e.message).toBe(`the rendered subject contains ${reason}`);
  });

  it.each(NOT_NFKC)('refuses, and does not normalise, a subject with %s', (_, value) => {
    const e = refusal(() => render(value));
    expect(e.reason).toBe('subject');
    expect(e.message).toBe('the rendered subject is not NFKC-normalised');
  });

  it.each(DOT_SEGMENTS)('refuses %s', (_, template, value) => {
    const e = refusal(() => render(value, template));
    expect(e.reason).toBe('subject');
    expect(e.message).toBe('the rendered subject has a "." or ".." path segment');
  });

  it('refuses a missing or non-string claim', () => {
    const e = refusal(() => render({ nested: true }));
    expect(e.reason).toBe('subject');
    expect(e.message).toBe('the token lacks the string claim the subject template needs (claims.sub)');
  });

  it(`refuses a subject longer than ${MAX_SUBJECT_LENGTH} characters`, () => {
    expect(render('x'.repeat(MAX_SUBJECT_LENGTH - 'acme/ci/'.length))).toHaveLength(MAX_SUBJECT_LENGTH);
    const e = refusal(() => render('x'.repeat(MAX_SUBJECT_LENGTH - 'acme/ci/'.length + 1)));
    expect(e.message).toBe(`the rendered subject exceeds ${MAX_SUBJECT_LENGTH} characters`);
  });
});

describe('checkSubjectTemplate', () => {
  it('accepts placeholders and literal text that is NFKC already', () => {
    expect(templateIssues('{trust}/{claims.repository}/ref/{claims.ref}/café')).toEqual([]);
  });

  it.each(CHARACTER_CLASSES)('refuses a template with a %s', (_, char, reason) => {
    expect(templateIssues(`ci${char}/{claims.sub}`)).toEqual([`subject_template: must not contain ${reason}`]);
  });

  it.each(NOT_NFKC)('refuses a template with %s', (_, text) => {
    expect(templateIssues(`${text}/{claims.sub}`)).toEqual([
      'subject_template: must be NFKC-normalised (write it as template.normalize("NFKC"))',
    ]);
  });

  it.each(['../{claims.sub}', '{claims.sub}/..', 'ci/./{claims.sub}', '.'])('refuses the template %s with its dot segment', (template) => {
    expect(templateIssues(template)).toEqual(['subject_template: must not have a "." or ".." path segment']);
  });

  it('does not take a placeholder next to dots for a dot segment', () => {
    expect(templateIssues('..{claims.sub}/.{trust}')).toEqual([]);
  });

  it('refuses unbalanced braces and unknown placeholders', () => {
    expect(templateIssues('ci/{claims.sub')).toEqual(['subject_template: unbalanced braces']);
    expect(templateIssues('ci/{who}')).toEqual(['subject_template: unknown placeholder {who} (use {trust}, {tenant} or {claims.<path>})']);
  });
});

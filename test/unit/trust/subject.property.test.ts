import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SubjectTokenInvalid } from '../../../lib/errors.ts';
import { renderSubject } from '../../../lib/trust/subject.ts';

// Claim values from every corner of UTF-16: any code unit (lone surrogates included), any code
// point, and the short strings that make up path segments and compatibility characters.
const tricky = fc.constantFrom(
  '.',
  '..',
  '/',
  'ﬁ',
  'ａ',
  'e\u0301',
  '\u200b',
  '\u202e',
  '\ufeff',
  '\ue000',
  '\u0378',
  '\ud800',
  '\u2028',
  '\u0085',
);
const piece = fc.oneof(fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' }), fc.string({ unit: 'grapheme-ascii' }), tricky);
const value = fc.array(piece, { maxLength: 6 }).map((parts) => parts.join(''));
const template = fc.constantFrom(
  '{claims.sub}',
  'ci/{claims.sub}',
  '{trust}/{claims.sub}/{claims.ref}',
  '{claims.sub}{claims.ref}',
  'x.{claims.sub}.y',
);

describe('renderSubject properties', () => {
  it('every subject it accepts is NFKC-stable, free of Cf/Cc/Cs/Co characters and of "." and ".." segments', () => {
    fc.assert(
      fc.property(template, value, value, (t, sub, ref) => {
        let rendered: string;
        try {
          rendered = renderSubject(t, { tenant: 'acme', trust: 'gha', claims: { sub, ref } });
        } catch (e) {
          expect(e).toBeInstanceOf(SubjectTokenInvalid);
          return;
        }
        expect(rendered.normalize('NFKC')).toBe(rendered);
        expect(rendered).not.toMatch(/[\p{Cf}\p{Cc}\p{Cs}\p{Co}]/u);
        expect(rendered.split('/')).not.toContain('.');
        expect(rendered.split('/')).not.toContain('..');
        expect(rendered.startsWith('acme/')).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});

import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { decodeSegment, typMatches, unverifiedClaims } from '../../lib/jws.ts';
import { MAX_TOKEN_BYTES } from '../../lib/limits.ts';
import { b64url } from '../support/jws.ts';

const claims = { iss: 'https://issuer.example', sub: 'acme/ci', tenant_id: 'acme' };
const token = (payloadSegment: string) => `${b64url({ alg: 'RS256' })}.${payloadSegment}.c2ln`;

describe('typMatches (RFC 7515 §4.1.9, as jose normalises typ)', () => {
  it.each<[unknown, boolean]>([
    ['at+jwt', true],
    ['AT+JWT', true],
    ['At+Jwt', true],
    ['application/at+jwt', true],
    ['APPLICATION/AT+JWT', true],
    ['JWT', false],
    ['application/jwt', false],
    ['at+jwt ', false],
    [' at+jwt', false],
    ['vnd.x/at+jwt', false],
    ['application/at+jwt; charset=utf-8', false],
    ['', false],
    [undefined, false],
    [5, false],
    [['at+jwt'], false],
  ])('says %j names at+jwt: %s', (typ, expected) => {
    expect(typMatches(typ, 'at+jwt')).toBe(expected);
  });
});

describe('decodeSegment (RFC 7515 §2)', () => {
  it.each([
    ['padding', 'YQ=='],
    ['standard base64 characters', 'a+/b'],
    ['non-canonical trailing bits', 'YR'],
    ['whitespace', 'YQ '],
    ['an impossible length', 'YWJjZ'],
    ['nothing', ''],
  ])('refuses %s as malformed', (_, segment) => {
    expect(() => decodeSegment(segment, 'payload')).toThrow(expect.objectContaining({ reason: 'malformed' }));
  });

  it('decodes canonical base64url', () => {
    expect(decodeSegment('YQ', 'payload').toString()).toBe('a');
  });
});

describe('unverifiedClaims (audit claimed_* only)', () => {
  it('reads the claims of a compact JWS without checking anything, as jose decodeJwt did', () => {
    const t = token(b64url(claims));
    expect(unverifiedClaims(t, MAX_TOKEN_BYTES)).toEqual(claims);
    expect(unverifiedClaims(t, MAX_TOKEN_BYTES)).toEqual(decodeJwt(t));
  });

  // Garbage claims nothing, as before. The last rows jose's decodeJwt read; they are read no longer,
  // so an audit record never shows claims no verifier would have parsed.
  it.each([
    ['not a JWS', 'garbage'],
    ['a JWE (five parts)', 'a.b.c.d.e'],
    ['a payload that is not JSON', token(b64url('not json'))],
    ['a payload that is a JSON array', token(b64url('[1]'))],
    ['a payload that is not UTF-8', token(Buffer.from([0xff, 0xfe]).toString('base64url'))],
    ['a token over the size limit', token(b64url({ ...claims, pad: 'x'.repeat(MAX_TOKEN_BYTES) }))],
    ['a padded payload', token(`${b64url({ a: 1 })}==`)],
    ['a payload with duplicate members', token(b64url('{"iss":"a","iss":"b"}'))],
  ])('claims nothing for %s', (_, t) => {
    expect(unverifiedClaims(t, MAX_TOKEN_BYTES)).toBeUndefined();
  });
});

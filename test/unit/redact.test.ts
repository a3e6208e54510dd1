import { describe, expect, it } from 'vitest';
import { redact } from '../../lib/redact.ts';

describe('redact', () => {
  it.each([
    ['an account id inside an ARN', 'Key arn:aws:kms:us-east-1:111122223333:key/abc not found', 'arn:aws:kms:us-east-1:[account]:key/abc'],
    ['a compact JWS', 'bad token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln here', 'bad token [jwt] here'],
    ['a compact JWE', 'eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d', '[jwt]'],
    ['a PEM block', 'key -----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY----- end', 'key [pem] end'],
  ])('removes %s', (_name, input, expected) => {
    expect(redact(input)).toContain(expected);
    expect(redact(input)).not.toMatch(/111122223333|eyJ|MIIE/);
  });

  it('leaves ordinary text alone', () => {
    expect(redact('throttled, retry in 2 s')).toBe('throttled, retry in 2 s');
  });
});

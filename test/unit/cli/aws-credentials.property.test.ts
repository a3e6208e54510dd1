import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultSessionName } from '../../../cli/aws-credentials.ts';

// RoleSessionName, https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html
const STS_NAME = /^[\w+=,.@-]{2,64}$/;

const tenant = fc.constantFrom('acme', 'dev', 'a'.repeat(63), 'acme-prod-eu-west-1');
// Principals built to collide once cleaned or cut: separators STS refuses, the characters it
// allows, long runs that get cut, and any text at all.
const principal = fc.oneof(
  fc.array(fc.constantFrom('ci', 'app', '/', ':', ' ', '-', '.', '@', 'é', 'x'.repeat(60)), { maxLength: 8 }).map((p) => p.join('')),
  fc.string({ unit: 'binary', maxLength: 120 }),
);
const sub = fc.tuple(tenant, principal, fc.boolean()).map(([t, p, prefixed]) => ({ tenant: t, sub: prefixed ? `${t}/${p}` : p }));

describe('default STS session name properties', () => {
  it('distinct principals get distinct names, every one as STS accepts it', () => {
    fc.assert(
      fc.property(fc.uniqueArray(sub, { selector: (s) => JSON.stringify([s.tenant, s.sub]), minLength: 2, maxLength: 50 }), (subs) => {
        const names = subs.map((s) => defaultSessionName(s.tenant, s.sub));
        for (const name of names) expect(name).toMatch(STS_NAME);
        expect(new Set(names).size).toBe(subs.length);
      }),
      { numRuns: 300 },
    );
  });
});

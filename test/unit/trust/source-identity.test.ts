import { describe, expect, it } from 'vitest';
import { SubjectTokenInvalid } from '../../../lib/errors.ts';
import { sourceIdentityOf } from '../../../lib/trust/session-tags.ts';

/** The source identity a relationship maps (IAM User Guide, "Using source identity with AssumeRoleWithWebIdentity"). */
describe('sourceIdentityOf', () => {
  it('maps a claim whose value STS accepts', () => {
    expect(sourceIdentityOf({ claim: 'x509Subject/CN' }, { 'x509Subject/CN': 'db-7.dc1.acme.example' })).toBe('db-7.dc1.acme.example');
    expect(sourceIdentityOf(undefined, { sub: 'x' })).toBeUndefined();
  });

  it('refuses (source_identity) a missing claim, or one STS would refuse', () => {
    for (const claims of [
      {},
      { cn: 'a' },
      { cn: 'has space' },
      { cn: 'aws:admin' },
      { cn: 'x'.repeat(65) },
      { cn: ['a', 'b'] },
      { cn: 42 },
    ]) {
      let caught: unknown;
      try {
        sourceIdentityOf({ claim: 'cn' }, claims);
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(SubjectTokenInvalid);
      expect((caught as SubjectTokenInvalid).reason).toBe('source_identity');
    }
  });
});

import { beforeAll, describe, expect, it } from 'vitest';
import { CertificateRefused, InvalidRequest } from '../../lib/errors.ts';
import { type ParsedAnchor, parseAnchor } from '../../lib/x509/anchor.ts';
import { verifyPath } from '../../lib/x509/path.ts';
import { type Issued, OpensslCa } from '../support/openssl-ca.ts';

/**
 * Red team (threat model I8): policyConstraints and inhibitAnyPolicy are critical extensions
 * fedbroker says pkijs processes. A CA below the anchor that requires an explicit policy
 * (requireExplicitPolicy:0) makes a path whose leaf asserts no policy invalid (RFC 5280 §6.1.5 (g)).
 * pkijs applies that below the trust anchor only: the same CA placed in the bundle lost it.
 */

const ca = new OpensslCa();
const now = () => new Date();
let root: Issued;
let anchor: ParsedAnchor;

const outcome = (p: Promise<unknown>) =>
  p.then(
    () => 'verified',
    (e: unknown) => (e instanceof CertificateRefused ? e.reason : `threw ${String(e)}`),
  );

beforeAll(async () => {
  root = ca.issue({ subject: '/O=Red Team/CN=Policy Root', ca: true, key: 'p256' });
  anchor = await parseAnchor({ id: 'corp', enabled: true, certificates: root.certPem, crls: [] }, now(), true);
}, 60_000);

describe('red team: policy constraints below the anchor and at it (I8)', () => {
  it('requireExplicitPolicy:0 with a leaf asserting no policy: refused; with the policy: verifies', async () => {
    const inter = ca.issue({
      subject: '/O=Red Team/CN=Explicit Policy CA',
      ca: true,
      issuer: root,
      extra: ['policyConstraints = critical, requireExplicitPolicy:0', 'certificatePolicies = 1.3.6.1.4.1.99999.1'],
    });
    const none = ca.issue({ subject: '/CN=no-policy', issuer: inter });
    const withPolicy = ca.issue({ subject: '/CN=policy', issuer: inter, extra: ['certificatePolicies = 1.3.6.1.4.1.99999.1'] });
    expect(await outcome(verifyPath(withPolicy.der, [inter.der], [anchor], now()))).toBe('verified');
    expect(await outcome(verifyPath(none.der, [inter.der], [anchor], now()))).not.toBe('verified');
    // The same CA as an anchor of the bundle: pkijs ignored its constraints and the leaf verified.
    // Now refused when stored, and a stored one verifies nothing.
    const content = { id: 'corp2', enabled: true, certificates: root.certPem + inter.certPem, crls: [] };
    await expect(parseAnchor(content, now(), true)).rejects.toBeInstanceOf(InvalidRequest);
    const both = await parseAnchor(content, now(), false);
    expect(await outcome(verifyPath(none.der, [], [both], now()))).toBe('anchor_policy_constraints');
    expect(await outcome(verifyPath(withPolicy.der, [], [both], now()))).toBe('anchor_policy_constraints');
  });
});

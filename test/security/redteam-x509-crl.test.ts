import { beforeAll, describe, expect, it } from 'vitest';
import { CertificateRefused, InvalidRequest } from '../../lib/errors.ts';
import { loadAnchor, parseAnchor } from '../../lib/x509/anchor.ts';
import { verifyPath } from '../../lib/x509/path.ts';
import { type Issued, OpensslCa } from '../support/openssl-ca.ts';

/**
 * Red team (threat model I8, revocation): "the newest CRL its issuer signed wins" is only right for
 * complete CRLs. A delta CRL (RFC 5280 §5.2.4) lists only what changed since its base, and a CRL
 * scoped by an issuingDistributionPoint (§5.2.5: only CA certificates, only some reasons, one
 * partition) lists only part of the issuer's revocations. Either, newer than the full CRL, made
 * every serial of the full CRL valid again. RFC 5280 §5: a CRL with a critical extension the
 * application does not process MUST NOT be used; fedbroker processes none, so such CRLs are
 * refused when stored (fail closed), and a stored one never counts.
 */

const ca = new OpensslCa();
const now = () => new Date();
let root: Issued;

const DELTA = ['2.5.29.27 = critical, DER:020101'];
const ONLY_CA = ['issuingDistributionPoint = critical, @idpsect', '[idpsect]', 'onlyCA = TRUE'];

function anchorWith(crls: string[], strict: boolean) {
  return parseAnchor({ id: 'corp', enabled: true, certificates: root.certPem, crls }, now(), strict);
}

beforeAll(() => {
  root = ca.issue({ subject: '/O=Red Team/CN=Red Team Root', ca: true, key: 'p256' });
}, 60_000);

describe('red team: partial CRLs never shadow a full CRL (I8)', () => {
  for (const [name, label, extensions] of [
    ['a delta CRL', 'delta', DELTA],
    ['an issuingDistributionPoint-scoped CRL (only CA certificates)', 'idp', ONLY_CA],
  ] as const) {
    it(`${name} newer than the full CRL does not unrevoke its serials`, async () => {
      const leaf = ca.issue({ subject: `/CN=revoked-${label}`, issuer: root });
      // The partial CRL is made before the revocation but dated later than the full one, as a CA's delta is.
      const partial = ca.crl(root, { crlExtensions: [...extensions] });
      ca.revoke(root, leaf);
      const base = ca.crl(root, { lastUpdate: new Date(Date.now() - 3600_000) });
      // Alone, the full CRL refuses the leaf.
      const e0 = await verifyPath(leaf.der, [], [await anchorWith([base], true)], now()).catch((e: unknown) => e);
      expect((e0 as CertificateRefused).reason).toBe('revoked');
      // Before the fix: the anchor stored and the leaf verified, the partial CRL being the newest.
      const prefix = await anchorWith([base, partial], false)
        .then((a) => verifyPath(leaf.der, [], [a], now()))
        .then(
          () => 'verified',
          (e: unknown) => (e instanceof CertificateRefused ? e.reason : 'refused'),
        );
      expect(prefix).not.toBe('verified');
      // Stored with the partial one: the write is refused (fail closed).
      await expect(anchorWith([base, partial], true)).rejects.toBeInstanceOf(InvalidRequest);
      // Already stored (loaded for a request): the anchor does not load, so it verifies nothing.
      const loaded = await anchorWith([base, partial], false).then(
        (a) => verifyPath(leaf.der, [], [a], now()),
        (e: unknown) => e,
      );
      expect(loaded).toBeInstanceOf(Error);
      if (loaded instanceof CertificateRefused) expect(loaded.reason).toBe('revoked');
      // And a stored anchor that no longer loads is not parsed again (CRL signatures and all) on every request.
      const content = { id: `corp-${label}`, enabled: true, certificates: root.certPem, crls: [base, partial] };
      const first = loadAnchor(content, now());
      await first.catch(() => undefined);
      expect(loadAnchor(content, now())).toBe(first);
    });
  }
});

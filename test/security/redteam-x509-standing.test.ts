import { beforeAll, describe, expect, it } from 'vitest';
import type { TrustAnchor } from '../../lib/x509/anchor.ts';
import { type CertificateBinding, caFingerprint, certificateStands, nameHash } from '../../lib/x509/binding.ts';
import { parseCertificate } from '../../lib/x509/certificate.ts';
import { type Issued, OpensslCa } from '../support/openssl-ca.ts';

/**
 * Red team (threat model I1/I8): a certificate-bound access token stands only while no CRL of its
 * issuer lists a serial of its path, judged as sessions judge it (path.ts): the newest CRL of that
 * issuer among all the tenant's anchors, every one of the CRLs tied at the newest thisUpdate. The
 * standing read only the binding's own anchor and kept the first of tied CRLs, so a token outlived
 * a revocation uploaded with another anchor holding the same CA, or a CRL tied with an older one.
 */

const ca = new OpensslCa();
let root: Issued;
let leaf: Issued;
let binding: CertificateBinding;

const anchor = (id: string, crls: string[] = [], enabled = true): TrustAnchor => ({
  id,
  tenant: 'acme',
  version: 1,
  generation: 'g',
  created_at: '',
  updated_at: '',
  enabled,
  certificates: root.certPem,
  crls,
});

beforeAll(async () => {
  root = ca.issue({ subject: '/CN=Standing Root', ca: true, key: 'p256' });
  leaf = ca.issue({ subject: '/CN=standing-leaf', issuer: root });
  const parsed = await parseCertificate(leaf.der);
  binding = { anchor: 'corp', ca: caFingerprint(root.der), serials: [[leaf.serialHex, nameHash(parsed.issuerDer)]] };
}, 60_000);

describe('red team: token standing follows revocation as sessions do (I1, I8)', () => {
  it('a CRL revoking the serial, uploaded with another anchor of the same CA, ends the token', () => {
    const at = new Date(Math.floor(Date.now() / 1000) * 1000 - 120_000);
    const before = ca.crl(root, { lastUpdate: at });
    expect(certificateStands('acme', binding, [anchor('corp', [before]), anchor('corp-copy')])).toBe(true);
    ca.revoke(root, leaf);
    const after = ca.crl(root);
    expect(certificateStands('acme', binding, [anchor('corp', [before]), anchor('corp-copy', [after])])).toBe(false);
    expect(certificateStands('acme', binding, [anchor('corp'), anchor('old', [after], false)])).toBe(false);
    // Tied at the same thisUpdate with a CRL that does not list it: refused in either order.
    const tied = ca.crl(root, { lastUpdate: at });
    expect(certificateStands('acme', binding, [anchor('corp', [before, tied])])).toBe(false);
    expect(certificateStands('acme', binding, [anchor('corp', [tied, before])])).toBe(false);
  });
});

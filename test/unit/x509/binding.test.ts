import { beforeAll, describe, expect, it } from 'vitest';
import { parseAnchor, type TrustAnchor } from '../../../lib/x509/anchor.ts';
import { type CertificateBinding, caFingerprint, certificateStands, nameHash } from '../../../lib/x509/binding.ts';
import { parseCertificate } from '../../../lib/x509/certificate.ts';
import { type Issued, OpensslCa } from '../../support/openssl-ca.ts';

/**
 * Threat model I1/I8: the standing of a certificate-bound token against the stored anchor as it is
 * now (lib/x509/binding.ts), read without pkijs; its CRL reading agrees with pkijs's (anchor.ts).
 */

const ca = new OpensslCa();
let root: Issued;
let other: Issued;
let leaf: Issued;
let spared: Issued;
let binding: CertificateBinding;

function anchor(content: Partial<TrustAnchor>): TrustAnchor {
  return {
    id: 'corp',
    tenant: 'acme',
    version: 1,
    generation: 'g',
    created_at: '',
    updated_at: '',
    enabled: true,
    certificates: root.certPem,
    crls: [],
    ...content,
  };
}

beforeAll(async () => {
  root = ca.issue({ subject: '/CN=Binding Root', ca: true, key: 'p256' });
  other = ca.issue({ subject: '/CN=Binding Other', ca: true, key: 'p256' });
  leaf = ca.issue({ subject: '/CN=binding-leaf', issuer: root });
  spared = ca.issue({ subject: '/CN=binding-spared', issuer: root });
  const parsed = await parseCertificate(leaf.der);
  binding = { anchor: 'corp', ca: caFingerprint(root.der), serials: [[leaf.serialHex, nameHash(parsed.issuerDer)]] };
}, 60_000);

describe('certificateStands', () => {
  it('stands under the anchor that verified it, after a description edit and with another CA added', () => {
    expect(certificateStands('acme', binding, [anchor({})])).toBe(true);
    expect(certificateStands('acme', binding, [anchor({ description: 'x' })])).toBe(true);
    expect(certificateStands('acme', binding, [anchor({ certificates: other.certPem + root.certPem })])).toBe(true);
  });

  it('falls when the anchor is disabled, deleted, or no longer holds the CA', () => {
    expect(certificateStands('acme', binding, [anchor({ enabled: false })])).toBe(false);
    expect(certificateStands('acme', binding, [anchor({ id: 'other' })])).toBe(false);
    expect(certificateStands('acme', binding, [])).toBe(false);
    expect(certificateStands('acme', binding, [anchor({ certificates: other.certPem })])).toBe(false);
  });

  it("falls when the CA's newest CRL lists a serial of the path, and agrees with pkijs on the serials", async () => {
    const before = ca.crl(root, { lastUpdate: new Date(Date.now() - 3600_000) });
    ca.revoke(root, leaf);
    const after = ca.crl(root);
    expect(certificateStands('acme', binding, [anchor({ crls: [before] })])).toBe(true);
    expect(certificateStands('acme', binding, [anchor({ crls: [after] })])).toBe(false);
    expect(certificateStands('acme', binding, [anchor({ crls: [before, after] })])).toBe(false);
    // base64 DER as well as PEM
    const der = Buffer.from(after.replace(/-----[A-Z0-9 ]+-----|\s/g, ''), 'base64').toString('base64');
    expect(certificateStands('acme', binding, [anchor({ crls: [der] })])).toBe(false);
    const sparedBinding = { ...binding, serials: [[spared.serialHex, binding.serials[0]?.[1] as string] as const] };
    expect(certificateStands('acme', sparedBinding, [anchor({ crls: [after] })])).toBe(true);
    const pkijs = await parseAnchor({ id: 'corp', enabled: true, certificates: root.certPem, crls: [after] }, new Date(), false);
    expect([...(pkijs.crls[0]?.revoked ?? [])]).toEqual([leaf.serialHex]);
  });

  it('fails closed on stored content it cannot read', () => {
    expect(certificateStands('acme', binding, [anchor({ certificates: `${root.certPem}garbage` })])).toBe(false);
    expect(certificateStands('acme', binding, [anchor({ crls: ['AAAA'] })])).toBe(false);
  });
});

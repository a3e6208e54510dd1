import { beforeAll, describe, expect, it } from 'vitest';
import { CertificateRefused } from '../../../lib/errors.ts';
import { type ParsedAnchor, parseAnchor } from '../../../lib/x509/anchor.ts';
import { certificateClaims, parseCertificate } from '../../../lib/x509/certificate.ts';
import { verifyPath } from '../../../lib/x509/path.ts';
import { type Issued, OpensslCa } from '../../support/openssl-ca.ts';

/** Threat model I8: one named test per refusal, each asserting the error code and its reason. */

const ca = new OpensslCa();
const now = () => new Date();
let root: Issued;
let inter: Issued;
let anchor: ParsedAnchor;

async function anchorOf(certs: Issued[], opts: { enabled?: boolean; crls?: string[]; id?: string } = {}): Promise<ParsedAnchor> {
  return parseAnchor(
    { id: opts.id ?? 'corp', enabled: opts.enabled ?? true, certificates: certs.map((c) => c.certPem).join(''), crls: opts.crls ?? [] },
    now(),
    true,
  );
}

async function refusedWith(p: Promise<unknown>, reason: string) {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(CertificateRefused);
  expect((e as CertificateRefused).code).toBe('ERR_CERTIFICATE_REFUSED');
  expect((e as CertificateRefused).reason).toBe(reason);
  expect((e as CertificateRefused).message).toBe('the certificate request was refused');
}

beforeAll(() => {
  root = ca.issue({ subject: '/O=Example Corp/CN=Example Root CA', key: 'p384', ca: true, end: new Date(Date.now() + 3650 * 86400_000) });
  inter = ca.issue({ subject: '/O=Example Corp/CN=Example Issuing CA', key: 'rsa2048', ca: true, pathLen: 0, issuer: root });
}, 60_000);

beforeAll(async () => {
  anchor = await anchorOf([root]);
});

describe('verifyPath accepts', () => {
  it('an EC leaf through an RSA intermediate to the root, with the Roles Anywhere attribute names', async () => {
    const leaf = ca.issue({
      subject: '/O=Example Corp/OU=Platform/OU=Prod/CN=api-1.example.org',
      issuer: inter,
      san: 'DNS:api-1.example.org, DNS:api.example.org, URI:spiffe://example.org/ns/prod/sa/api, IP:10.0.0.7',
    });
    const ok = await verifyPath(leaf.der, [inter.der], [anchor], now());
    expect(ok.anchor.id).toBe('corp');
    expect(ok.path).toHaveLength(3);
    expect(certificateClaims(ok.leaf)).toMatchObject({
      'x509Subject/CN': 'api-1.example.org',
      'x509Subject/OU': ['Platform', 'Prod'],
      'x509Subject/O': 'Example Corp',
      'x509Issuer/CN': 'Example Issuing CA',
      'x509SAN/DNS': ['api-1.example.org', 'api.example.org'],
      'x509SAN/URI': ['spiffe://example.org/ns/prod/sa/api'],
      'x509SAN/IP': ['10.0.0.7'],
      x509SerialNumber: leaf.serialHex,
    });
  });

  it('a chain that ends with the anchor CA itself (the whole bundle sent)', async () => {
    const leaf = ca.issue({ subject: '/CN=bundle-sender', issuer: inter });
    await expect(verifyPath(leaf.der, [inter.der, root.der], [anchor], now())).resolves.toMatchObject({ path: { length: 3 } });
  });

  it('an RSA leaf issued by the root directly', async () => {
    const leaf = ca.issue({ subject: '/CN=rsa-leaf', key: 'rsa2048', issuer: root });
    await expect(verifyPath(leaf.der, [], [anchor], now())).resolves.toMatchObject({ anchor: { id: 'corp' } });
  });
});

describe('verifyPath refuses', () => {
  it('an expired leaf', async () => {
    const leaf = ca.issue({
      subject: '/CN=old',
      issuer: inter,
      start: new Date(Date.now() - 10 * 86400_000),
      end: new Date(Date.now() - 86400_000),
    });
    await refusedWith(verifyPath(leaf.der, [inter.der], [anchor], now()), 'leaf_expired');
  });

  it('a not-yet-valid leaf', async () => {
    const leaf = ca.issue({
      subject: '/CN=future',
      issuer: inter,
      start: new Date(Date.now() + 86400_000),
      end: new Date(Date.now() + 10 * 86400_000),
    });
    await refusedWith(verifyPath(leaf.der, [inter.der], [anchor], now()), 'leaf_not_yet_valid');
  });

  it('a leaf issued by another CA', async () => {
    const otherRoot = ca.issue({ subject: '/O=Other/CN=Other Root', ca: true });
    const leaf = ca.issue({ subject: '/CN=stranger', issuer: otherRoot });
    await refusedWith(verifyPath(leaf.der, [], [anchor], now()), 'untrusted_issuer');
  });

  it('a leaf issued by another CA of the same name (different key)', async () => {
    const impostor = ca.issue({ subject: '/O=Example Corp/CN=Example Root CA', key: 'p384', ca: true });
    const leaf = ca.issue({ subject: '/CN=impostor', issuer: impostor });
    await refusedWith(verifyPath(leaf.der, [], [anchor], now()), 'path_invalid');
  });

  it('a CA:FALSE intermediate', async () => {
    const notCa = ca.issue({
      subject: '/CN=Not A CA',
      issuer: root,
      basicConstraints: 'critical, CA:FALSE',
      keyUsage: 'critical, keyCertSign',
    });
    const leaf = ca.issue({ subject: '/CN=under-not-ca', issuer: notCa });
    await refusedWith(verifyPath(leaf.der, [notCa.der], [anchor], now()), 'intermediate_not_ca');
  });

  it('pathLen exceeded', async () => {
    // inter has pathlen:0, so no CA may stand below it.
    const sub = ca.issue({ subject: '/CN=Sub CA', ca: true, issuer: inter });
    const leaf = ca.issue({ subject: '/CN=too-deep', issuer: sub });
    await refusedWith(verifyPath(leaf.der, [sub.der, inter.der], [anchor], now()), 'path_length');
  });

  it('a leaf without digitalSignature', async () => {
    const leaf = ca.issue({ subject: '/CN=no-sign', issuer: inter, keyUsage: 'critical, keyAgreement' });
    await refusedWith(verifyPath(leaf.der, [inter.der], [anchor], now()), 'leaf_key_usage');
  });

  it('a leaf without keyUsage at all', async () => {
    const leaf = ca.issue({ subject: '/CN=no-ku', issuer: inter, keyUsage: '' });
    await refusedWith(verifyPath(leaf.der, [inter.der], [anchor], now()), 'leaf_key_usage');
  });

  it('a revoked serial', async () => {
    const leaf = ca.issue({ subject: '/CN=revoked', issuer: root });
    ca.revoke(root, leaf);
    const withCrl = await anchorOf([root], { crls: [ca.crl(root)] });
    await refusedWith(verifyPath(leaf.der, [], [withCrl], now()), 'revoked');
    // The same leaf without the CRL is accepted: revocation is only what the tenant uploaded.
    await expect(verifyPath(leaf.der, [], [anchor], now())).resolves.toBeDefined();
  });

  it('a revoked intermediate', async () => {
    const doomed = ca.issue({ subject: '/CN=Doomed CA', ca: true, issuer: root, key: 'p256' });
    const leaf = ca.issue({ subject: '/CN=under-doomed', issuer: doomed });
    ca.revoke(root, doomed);
    const withCrl = await anchorOf([root], { crls: [ca.crl(root)] });
    await refusedWith(verifyPath(leaf.der, [doomed.der], [withCrl], now()), 'revoked');
  });

  it('the newest CRL wins', async () => {
    const crlRoot = ca.issue({ subject: '/CN=CRL Root', ca: true, key: 'p256' });
    const leaf = ca.issue({ subject: '/CN=later-revoked', issuer: crlRoot });
    const before = ca.crl(crlRoot, { lastUpdate: new Date(Date.now() - 3600_000) });
    ca.revoke(crlRoot, leaf);
    const after = ca.crl(crlRoot);
    await refusedWith(verifyPath(leaf.der, [], [await anchorOf([crlRoot], { crls: [after, before] })], now()), 'revoked');
    await refusedWith(verifyPath(leaf.der, [], [await anchorOf([crlRoot], { crls: [before, after] })], now()), 'revoked');
  });

  it('RSA 1024', async () => {
    const leaf = ca.issue({ subject: '/CN=weak', key: 'rsa1024', issuer: inter });
    await refusedWith(verifyPath(leaf.der, [inter.der], [anchor], now()), 'weak_key');
  });

  it('a SHA-1 signature', async () => {
    const leaf = ca.issue({ subject: '/CN=sha1', issuer: inter, md: 'sha1' });
    await refusedWith(verifyPath(leaf.der, [inter.der], [anchor], now()), 'weak_signature_algorithm');
  });

  it('an unknown critical extension', async () => {
    const leaf = ca.issue({
      subject: '/CN=critical',
      issuer: inter,
      extra: ['1.3.6.1.4.1.55555.1 = critical, ASN1:UTF8String:must-understand'],
    });
    await refusedWith(verifyPath(leaf.der, [inter.der], [anchor], now()), 'unknown_critical_extension');
  });

  it('an unknown non-critical extension is fine', async () => {
    const leaf = ca.issue({ subject: '/CN=noncritical', issuer: inter, extra: ['1.3.6.1.4.1.55555.1 = ASN1:UTF8String:may-ignore'] });
    await expect(verifyPath(leaf.der, [inter.der], [anchor], now())).resolves.toBeDefined();
  });

  it('the chain in the wrong order', async () => {
    const second = ca.issue({ subject: '/CN=Second Level CA', ca: true, issuer: root, key: 'p256' });
    const third = ca.issue({ subject: '/CN=Third Level CA', ca: true, issuer: second, key: 'p256' });
    const leaf = ca.issue({ subject: '/CN=deep', issuer: third });
    await expect(verifyPath(leaf.der, [third.der, second.der], [anchor], now())).resolves.toBeDefined();
    await refusedWith(verifyPath(leaf.der, [second.der, third.der], [anchor], now()), 'chain_order');
  });

  it('a disabled anchor', async () => {
    const leaf = ca.issue({ subject: '/CN=disabled', issuer: inter });
    await refusedWith(verifyPath(leaf.der, [inter.der], [await anchorOf([root], { enabled: false })], now()), 'anchor_disabled');
  });

  it("an anchor of another tenant (only the tenant's own anchors are passed in)", async () => {
    const otherTenantRoot = ca.issue({ subject: '/CN=Tenant B Root', ca: true });
    const leaf = ca.issue({ subject: '/CN=b-workload', issuer: otherTenantRoot });
    const otherTenants = await anchorOf([otherTenantRoot], { id: 'b-corp' });
    await expect(verifyPath(leaf.der, [], [otherTenants], now())).resolves.toBeDefined();
    await refusedWith(verifyPath(leaf.der, [], [anchor], now()), 'untrusted_issuer');
  });

  it('a CA certificate presented as the leaf', async () => {
    await refusedWith(verifyPath(inter.der, [], [anchor], now()), 'leaf_is_ca');
  });

  it('an expired intermediate', async () => {
    const oldCa = ca.issue({
      subject: '/CN=Old CA',
      ca: true,
      issuer: root,
      key: 'p256',
      start: new Date(Date.now() - 9 * 86400_000),
      end: new Date(Date.now() - 3600_000),
    });
    const leaf = ca.issue({ subject: '/CN=under-old', issuer: oldCa, start: new Date(Date.now() - 8 * 86400_000) });
    await refusedWith(verifyPath(leaf.der, [oldCa.der], [anchor], now()), 'intermediate_expired');
  });

  it('garbage where a certificate belongs', async () => {
    await refusedWith(verifyPath(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01]), [], [anchor], now()), 'malformed_certificate');
    await refusedWith(verifyPath(new Uint8Array(9000), [], [anchor], now()), 'malformed_certificate');
  });

  it('a certificate that is not DER: a longer outer length, or trailing bytes (found by the property test)', async () => {
    const leaf = ca.issue({ subject: '/CN=ber', issuer: inter });
    const longer = Uint8Array.from(leaf.der);
    longer[3] = (longer[3] as number) ^ 4;
    await refusedWith(verifyPath(longer, [inter.der], [anchor], now()), 'malformed_certificate');
    const trailing = new Uint8Array([...leaf.der, 0, 0]);
    await refusedWith(verifyPath(trailing, [inter.der], [anchor], now()), 'malformed_certificate');
    await expect(verifyPath(leaf.der, [inter.der], [anchor], now())).resolves.toBeDefined();
  });

  it('more than five intermediates', async () => {
    await refusedWith(verifyPath(root.der, Array(6).fill(inter.der), [anchor], now()), 'chain_too_long');
  });

  it('parses what it checked', async () => {
    const parsed = await parseCertificate(inter.der);
    expect(parsed).toMatchObject({ ca: true, pathLen: 0, keyType: 'rsa', keyStrength: 2048, signatureAlgorithm: 'ECDSA-SHA256' });
  });
});

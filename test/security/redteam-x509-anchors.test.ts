import { beforeAll, describe, expect, it } from 'vitest';
import { CertificateRefused } from '../../lib/errors.ts';
import { type ParsedAnchor, parseAnchor } from '../../lib/x509/anchor.ts';
import { verifyPath } from '../../lib/x509/path.ts';
import { type Issued, OpensslCa } from '../support/openssl-ca.ts';

/**
 * Red team (threat model I8, revocation): a CRL is the issuing CA's statement about its serials, not
 * a property of the anchor document it was uploaded with. With the same CA in two anchors of one
 * tenant (a migration, a copy kept under another id), a serial revoked by the CRL uploaded to one
 * anchor was admitted through the other, whichever anchor the path happened to end at.
 */

const ca = new OpensslCa();
const now = () => new Date();
let root: Issued;

const anchorOf = (id: string, certs: Issued[], crls: string[] = [], enabled = true): Promise<ParsedAnchor> =>
  parseAnchor({ id, enabled, certificates: certs.map((c) => c.certPem).join(''), crls }, now(), true);

const outcome = (p: Promise<unknown>) =>
  p.then(
    () => 'verified',
    (e: unknown) => (e instanceof CertificateRefused ? e.reason : `threw ${String(e)}`),
  );

beforeAll(() => {
  root = ca.issue({ subject: '/O=Red Team/CN=Shared Root', ca: true, key: 'p256' });
}, 60_000);

describe('red team: a CRL counts for its CA in every anchor of the tenant (I8)', () => {
  it('a serial revoked in one anchor is refused through another anchor holding the same CA', async () => {
    const leaf = ca.issue({ subject: '/CN=revoked-elsewhere', issuer: root });
    ca.revoke(root, leaf);
    const withCrl = await anchorOf('corp', [root], [ca.crl(root)]);
    const copy = await anchorOf('corp-copy', [root]);
    expect(await outcome(verifyPath(leaf.der, [], [withCrl], now()))).toBe('revoked');
    expect(await outcome(verifyPath(leaf.der, [], [copy, withCrl], now()))).toBe('revoked');
    expect(await outcome(verifyPath(leaf.der, [], [withCrl, copy], now()))).toBe('revoked');
    // A disabled anchor's CRL is still the CA's word: refusing more, never less.
    const disabledWithCrl = await anchorOf('old', [root], [ca.crl(root)], false);
    expect(await outcome(verifyPath(leaf.der, [], [copy, disabledWithCrl], now()))).toBe('revoked');
  });

  it('a revoked intermediate is refused though the CRL sits with another anchor of its issuer', async () => {
    const inter = ca.issue({ subject: '/O=Red Team/CN=Doomed Issuing CA', ca: true, issuer: root });
    const leaf = ca.issue({ subject: '/CN=under-doomed', issuer: inter });
    ca.revoke(root, inter);
    const withCrl = await anchorOf('corp', [root], [ca.crl(root)]);
    const copy = await anchorOf('corp-copy', [root]);
    expect(await outcome(verifyPath(leaf.der, [inter.der], [copy, withCrl], now()))).toBe('revoked');
  });
});

describe('red team: two CRLs of one CA with the same thisUpdate (I8)', () => {
  it('a serial either lists is refused, in whichever order they were uploaded', async () => {
    const leaf = ca.issue({ subject: '/CN=tied', issuer: root });
    const at = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);
    const without = ca.crl(root, { lastUpdate: at });
    ca.revoke(root, leaf);
    const withLeaf = ca.crl(root, { lastUpdate: at });
    expect(await outcome(verifyPath(leaf.der, [], [await anchorOf('corp', [root], [withLeaf, without])], now()))).toBe('revoked');
    expect(await outcome(verifyPath(leaf.der, [], [await anchorOf('corp', [root], [without, withLeaf])], now()))).toBe('revoked');
  });
});

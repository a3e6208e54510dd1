import { beforeAll, describe, expect, it } from 'vitest';
import { CertificateRefused, InvalidRequest } from '../../lib/errors.ts';
import { type ParsedAnchor, parseAnchor } from '../../lib/x509/anchor.ts';
import { verifyPath } from '../../lib/x509/path.ts';
import { type Issued, OpensslCa } from '../support/openssl-ca.ts';

/**
 * Red team (threat model I8): nameConstraints is one of the critical extensions fedbroker says it
 * processes (through pkijs). pkijs's engine applies the constraints of the certificates *below* the
 * trust anchor only, so a constrained CA placed in the bundle — as docs/x509.md advises for an
 * intermediate whose CRL should count — lost its constraints: it could vouch for any name.
 */

const ca = new OpensslCa();
const now = () => new Date();
let root: Issued;
let constrained: Issued;

/** `strict`: as stored through the admin API; otherwise as a stored anchor is loaded for a request. */
const anchorOf = (certs: Issued[], strict = true): Promise<ParsedAnchor> =>
  parseAnchor({ id: 'corp', enabled: true, certificates: certs.map((c) => c.certPem).join(''), crls: [] }, now(), strict);

const outcome = (p: Promise<unknown>) =>
  p.then(
    () => 'verified',
    (e: unknown) => (e instanceof CertificateRefused ? e.reason : `threw ${String(e)}`),
  );

beforeAll(() => {
  root = ca.issue({ subject: '/O=Red Team/CN=NC Root', ca: true, key: 'p256' });
  constrained = ca.issue({
    subject: '/O=Red Team/CN=Corp-only Issuing CA',
    ca: true,
    issuer: root,
    extra: ['nameConstraints = critical, permitted;DNS:.corp.example, permitted;URI:.corp.example'],
  });
}, 60_000);

describe('red team: a constrained CA keeps its nameConstraints (I8)', () => {
  it('below the root, as an intermediate: pkijs applies them', async () => {
    const ok = ca.issue({ subject: '/CN=ok', issuer: constrained, san: 'DNS:svc.corp.example' });
    const evil = ca.issue({ subject: '/CN=evil', issuer: constrained, san: 'DNS:login.bank.example, URI:spiffe://bank.example/admin' });
    expect(await outcome(verifyPath(ok.der, [constrained.der], [await anchorOf([root])], now()))).toBe('verified');
    expect(await outcome(verifyPath(evil.der, [constrained.der], [await anchorOf([root])], now()))).not.toBe('verified');
  });

  it('in the bundle: refused when stored, and a stored one verifies nothing (it verified any name before)', async () => {
    const evil = ca.issue({ subject: '/CN=evil', issuer: constrained, san: 'DNS:login.bank.example, URI:spiffe://bank.example/admin' });
    await expect(anchorOf([root, constrained])).rejects.toBeInstanceOf(InvalidRequest);
    await expect(anchorOf([constrained])).rejects.toBeInstanceOf(InvalidRequest);
    for (const bundle of [[root, constrained], [constrained]]) {
      const stored = await anchorOf(bundle, false);
      expect(await outcome(verifyPath(evil.der, [], [stored], now()))).toBe('anchor_name_constraints');
      // Sent with the chain too: the copy of the anchor CA is dropped, the path ends at it all the same.
      expect(await outcome(verifyPath(evil.der, [constrained.der], [stored], now()))).toBe('anchor_name_constraints');
    }
  });
});

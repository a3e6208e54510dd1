import { beforeAll, describe, expect, it } from 'vitest';
import { explainCertificate } from '../../lib/app/x509.ts';
import type { TrustStore } from '../../lib/directory/ports.ts';
import { ANCHOR_LIMITS, type TrustAnchor } from '../../lib/x509/anchor.ts';
import { type Issued, OpensslCa } from '../support/openssl-ca.ts';

/**
 * Red team (threat model I10, "bounded"): the 10-anchor cap is a read before the write, and 40
 * concurrent creates against the local broker stored 21 anchors in the `dev` tenant. Every session
 * request then loaded and searched all of them. Like relationships (the first 100 by id), only the
 * first `anchorsPerTenant` anchors by id are ever used: one past the cap verifies nothing.
 */

const ca = new OpensslCa();
let root: Issued;
let leaf: Issued;

const anchor = (id: string, certificates: string): TrustAnchor => ({
  id,
  certificates,
  crls: [],
  enabled: true,
  tenant: 'acme',
  version: 1,
  generation: 'g',
  created_at: '2026-01-01T00:00:00Z',
  updated_at: '2026-01-01T00:00:00Z',
});

function storeWith(anchors: TrustAnchor[]): TrustStore {
  return { readTenant: async () => ({ relationships: [], anchors }) } as unknown as TrustStore;
}

beforeAll(() => {
  root = ca.issue({ subject: '/O=Red Team/CN=Cap Root', ca: true, key: 'p256' });
  leaf = ca.issue({ subject: '/CN=cap-workload', issuer: root });
}, 60_000);

describe('red team: anchors past the per-tenant cap never verify (I10)', () => {
  const explain = (anchors: TrustAnchor[]) =>
    explainCertificate(
      {
        store: storeWith(anchors),
        clock: { now: () => Date.now() },
        context: { cognitoIssuer: 'https://c.example', developerProvider: 'd' },
      },
      'acme',
      { certificate: leaf.certPem },
    );

  it('the anchor within the cap verifies; the same anchor sorted past the cap does not', async () => {
    const other = ca.issue({ subject: '/O=Red Team/CN=Other Root', ca: true, key: 'p256' });
    const fillers = Array.from({ length: ANCHOR_LIMITS.anchorsPerTenant }, (_, i) =>
      anchor(`a-${String(i).padStart(2, '0')}`, other.certPem),
    );
    expect((await explain([anchor('a-00-corp', root.certPem), ...fillers.slice(1)])).verified).toBe(true);
    const over = await explain([...fillers, anchor('z-corp', root.certPem)]);
    expect(over.verified).toBe(false);
    // Stored in any order: the cap is by id, not by read order.
    expect((await explain([anchor('z-corp', root.certPem), ...fillers])).verified).toBe(false);
  });
});

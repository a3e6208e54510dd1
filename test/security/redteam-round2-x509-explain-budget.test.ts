// Red team, round 2 (6b26e51), x509 side: `x509:explain` runs every listed x509 relationship's
// conditions (disabled ones, ones bound to other anchors) in 'all' mode against one shared step
// budget; a certificate session evaluates only enabled, evaluated relationships bound to the anchor
// that verified the path, 'first-failure'. Disabled relationships sorting first exhaust the
// explanation's budget: it said "no match" for the relationship the session grants through.
// Fixed: `matched` is now the session's own verdict over its candidates (lib/app/x509.ts, threat
// model I3); this test holds it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { explainCertificate } from '../../lib/app/x509.ts';
import { TenantDirectory } from '../../lib/directory/directory.ts';
import type { TrustStore } from '../../lib/directory/ports.ts';
import { requestBudget } from '../../lib/trust/limits.ts';
import { withRequestContext } from '../../lib/trust/context.ts';
import type { TrustAnchor } from '../../lib/x509/anchor.ts';
import { type Issued, OpensslCa } from '../support/openssl-ca.ts';

const ca = new OpensslCa();
let root: Issued;
let leaf: Issued;
const CN = 'w'.repeat(64);
const meta = { tenant: 'acme', version: 1, generation: 'g', created_at: '2026-01-01T00:00:00Z', updated_at: '2026-01-01T00:00:00Z' };
const context = { cognitoIssuer: 'https://c.example', developerProvider: 'd' };
const base = {
  kind: 'x509',
  trust_anchors: ['corp'],
  scopes: ['id-token:issue'],
  id_token_audiences: ['sts.amazonaws.com'],
  max_duration_seconds: 3600,
  session_tags: {},
  subject_template: '{trust}/{claims.x509Subject/CN}',
  enabled: true,
  ...meta,
};
const values = Array.from({ length: 50 }, (_, i) => `*${'w?'.repeat(245)}${String(i).padStart(2, '0')}b`);
const K = 'x509Subject/CN';
// 200 values (the cap) over 4 pairs: ~200k steps per relationship against a 64-character CN.
const heavy = {
  StringLike: { [K]: values },
  StringLikeIfExists: { [K]: values },
  'ForAnyValue:StringLike': { [K]: values },
  'ForAllValues:StringLike': { [K]: values },
};

beforeAll(() => {
  root = ca.issue({ subject: '/O=Red Team/CN=Budget Root', ca: true, key: 'p256' });
  leaf = ca.issue({ subject: `/CN=${CN}`, issuer: root });
}, 60_000);
afterAll(() => undefined);

function store(): TrustStore {
  const disabled = Array.from({ length: 40 }, (_, i) => ({
    ...base,
    id: `a${String(i).padStart(2, '0')}`,
    enabled: false,
    conditions: heavy,
  }));
  const grant = { ...base, id: 'zz-x509', conditions: { StringEquals: { [K]: CN } } };
  const anchors: TrustAnchor[] = [{ id: 'corp', certificates: root.certPem, crls: [], enabled: true, ...meta }];
  return {
    readTenant: async () => ({
      tenant: { id: 'acme', status: 'active' },
      relationships: [...disabled, grant],
      pools: [],
      anchors,
      revocations: [],
    }),
  } as unknown as TrustStore;
}

describe('x509:explain vs a certificate session, expensive disabled relationships first', () => {
  it('agree on the relationship the session grants through', async () => {
    const clock = { now: () => Date.now() };
    const explained = await explainCertificate({ store: store(), clock, context }, 'acme', { certificate: leaf.certPem });
    expect(explained.verified).toBe(true);
    // What certificateSession does with the same view (lib/app/x509.ts candidatesFor + find).
    const view = await new TenantDirectory({ store: store(), clock, ttlSeconds: 15, context }).get('acme');
    const seen = withRequestContext(explained.attributes as Record<string, unknown>, { now: clock.now() });
    const budget = requestBudget();
    const granted = view.trusts
      .filter((t) => t.relationship.kind === 'x509' && (t.relationship as { trust_anchors: string[] }).trust_anchors.includes('corp'))
      .find((t) => t.evaluate(seen, budget, 'first-failure').matched);
    expect(granted?.relationship.id).toBe('zz-x509');
    const zz = explained.relationships.find((r) => r.id === 'zz-x509');
    expect(zz?.matched, JSON.stringify(zz?.checks)).toBe(true);
  });
});

// `:explain` and `x509:explain` describe exactly what the exchange and a certificate session
// evaluate (threat model I3; lib/tenants/evaluated-relationships.ts), also past the 100 cap, which
// concurrent creates can overshoot. Found by the red team: `:explain` used to cap all relationships
// (disabled ones included) and `x509:explain` the x509 ones alone, so an explanation could say "no
// match" for a token the exchange accepted, or "matched" for a certificate a session refused.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { explainToken } from '../../lib/app/explain.ts';
import { explainCertificate } from '../../lib/app/x509.ts';
import { runtime } from '../../lib/handlers/runtime.ts';
import { TenantDirectory } from '../../lib/directory/directory.ts';
import type { TrustStore } from '../../lib/directory/ports.ts';
import type { TrustAnchor } from '../../lib/x509/anchor.ts';
import { type Issued, OpensslCa } from '../support/openssl-ca.ts';
import { adminAccessToken, ciRelationship, external, startExchangeEnv, type ExchangeEnv } from '../support/security-env.ts';
import { startUpstreamIssuer, type UpstreamIssuer } from '../support/upstream-issuer.ts';

let env: ExchangeEnv;
let up: UpstreamIssuer;
const TENANT = 'acme';

/** Stores a relationship past the admin API's cap read (an overshoot by concurrent creates). */
async function put(body: Record<string, unknown>, enabled = true, tenant = TENANT, generation?: string | null) {
  expect(await env.admin.stored(tenant, body, { enabled, ...(generation === undefined ? {} : { generation }) })).toBe(true);
}

beforeAll(async () => {
  env = await startExchangeEnv();
  up = await startUpstreamIssuer();
  await env.admin.tenant(TENANT, []);
  // "root" lets the test call the admin API; 100 disabled relationships sort before "zz-deploy".
  await put(ciRelationship(up.issuer, { id: 'root', conditions: { StringEquals: { sub: 'root' } }, scopes: ['trust:admin'] }));
  for (let i = 0; i < 100; i++) {
    await put(ciRelationship(up.issuer, { id: `a${String(i).padStart(3, '0')}`, conditions: { StringEquals: { sub: 'nobody' } } }), false);
  }
  await put(ciRelationship(up.issuer, { id: 'zz-deploy', conditions: { StringEquals: { sub: 'deployer' } } }));
}, 120_000);
afterAll(async () => {
  await up?.close();
  await env?.close();
});

const claimsOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>;

describe('the exchange and :explain over random tenants (property)', () => {
  // Each run: a fresh tenant whose admin relationship trusts a second issuer (so it never competes),
  // then relationships of random standing, issuer, audience and condition, and one token. `:explain`
  // must show as first matched exactly the relationship the exchange granted through, or none.
  const relationship = fc.record({
    enabled: fc.constantFrom(true, true, true, false),
    // null: a document saved before generations existed (no generation member).
    generation: fc.constantFrom<string | null>('g', 'g', 'g', null),
    sameIssuer: fc.boolean(),
    audience: fc.constantFrom('fedbroker', 'other'),
    // A template naming a claim the token may lack: the exchange refuses after picking it.
    template: fc.constantFrom('{trust}/{claims.sub}', '{trust}/{claims.repository}'),
    condition: fc.constantFrom<Record<string, Record<string, string>>>(
      { StringEquals: { sub: 'alice' } },
      { StringEquals: { sub: 'bob' } },
      { StringLike: { sub: '*' } },
      { StringNotEquals: { sub: 'alice' } },
    ),
  });
  let other: UpstreamIssuer;
  let n = 0;
  beforeAll(async () => {
    other = await startUpstreamIssuer();
  });
  afterAll(async () => other?.close());

  it('agree on the relationship a token is admitted through', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(relationship, { maxLength: 6 }),
        fc.constantFrom('alice', 'bob', 'carol'),
        fc.boolean(),
        async (rels, sub, withRepository) => {
          const tenant = `prop-${++n}`;
          await env.admin.tenant(tenant, []);
          for (const [i, r] of rels.entries()) {
            const body = ciRelationship(r.sameIssuer ? up.issuer : other.issuer, {
              id: `r${i}`,
              audiences: [r.audience],
              conditions: r.condition,
              subject_template: r.template,
            });
            await put(body, r.enabled, tenant, r.generation);
          }
          // After the relationships: the exchange below reads the tenant view this caches.
          const adminToken = await adminAccessToken(env, tenant, other);
          const token = await up.token({ sub, ...(withRepository ? { repository: 'acme/app' } : {}) });
          const exchanged = await env.exchange(external(token, tenant));
          const explained = await env.api('POST', `/v1/tenants/${tenant}/trust-relationships:explain`, adminToken, { token });
          expect(explained.status, explained.text).toBe(200);
          const first = (explained.body.relationships as { id: string; matched: boolean }[]).find((r) => r.matched)?.id;
          expect(first).toBe(exchanged.status === 200 ? claimsOf(exchanged.body.access_token as string).trust : undefined);
        },
      ),
      { numRuns: 40 },
    );
  }, 120_000);
});

describe('the exchange and :explain over a tenant past the 100 cap', () => {
  it('the exchange grants through zz-deploy (the 2nd enabled relationship by id)', async () => {
    const res = await env.exchange(external(await up.token({ sub: 'deployer' })));
    expect(res.status, res.text).toBe(200);
  });

  it(':explain of the same token shows the relationship that grants it', async () => {
    const root = await env.exchange(external(await up.token({ sub: 'root' })));
    expect(root.status, root.text).toBe(200);
    const res = await env.api('POST', `/v1/tenants/${TENANT}/trust-relationships:explain`, root.body.access_token as string, {
      token: await up.token({ sub: 'deployer' }),
    });
    expect(res.status, res.text).toBe(200);
    const rels = res.body.relationships as { id: string; matched: boolean }[];
    expect(rels.filter((r) => r.matched).map((r) => r.id)).toEqual(['zz-deploy']);
    // The disabled ones are listed with the check that keeps them out, never as matched.
    const a000 = (res.body.relationships as { id: string; matched: boolean; checks: { check: string; matched: boolean }[] }[]).find(
      (r) => r.id === 'a000',
    );
    expect(a000?.matched).toBe(false);
    expect(a000?.checks[0]).toEqual({ check: 'enabled', matched: false });
  });
});

const ca = new OpensslCa();
let root: Issued;
let leaf: Issued;
const meta = { tenant: 'acme', version: 1, generation: 'g', created_at: '2026-01-01T00:00:00Z', updated_at: '2026-01-01T00:00:00Z' };
const context = { cognitoIssuer: 'https://c.example', developerProvider: 'd' };
const base = {
  scopes: ['id-token:issue'],
  id_token_audiences: ['sts.amazonaws.com'],
  max_duration_seconds: 3600,
  session_tags: {},
  enabled: true,
  ...meta,
};

beforeAll(() => {
  root = ca.issue({ subject: '/O=Red Team/CN=Order Root', ca: true, key: 'p256' });
  leaf = ca.issue({ subject: '/CN=order-workload', issuer: root });
}, 60_000);

function store(status = 'active', oidcCount = 100): TrustStore {
  const oidc = Array.from({ length: oidcCount }, (_, i) => ({
    ...base,
    kind: 'oidc',
    id: `a${String(i).padStart(3, '0')}`,
    issuer: 'https://issuer.example',
    audiences: ['x'],
    conditions: { StringEquals: { sub: 'nobody' } },
    subject_template: '{trust}/{claims.sub}',
  }));
  const x509 = {
    ...base,
    kind: 'x509',
    id: 'zz-x509',
    trust_anchors: ['corp'],
    conditions: {},
    subject_template: '{trust}/{claims.x509Subject/CN}',
  };
  const anchors: TrustAnchor[] = [{ id: 'corp', certificates: root.certPem, crls: [], enabled: true, ...meta }];
  return {
    readTenant: async () => ({
      tenant: { id: 'acme', status },
      relationships: [...oidc, x509],
      pools: [],
      anchors,
      revocations: [],
    }),
  } as unknown as TrustStore;
}

describe('x509 sessions and x509:explain over a tenant past the 100 cap', () => {
  it('agree that an x509 relationship past the cap across all kinds is not evaluated', async () => {
    const explained = await explainCertificate({ store: store(), clock: { now: () => Date.now() }, context }, 'acme', {
      certificate: leaf.certPem,
    });
    expect(explained.verified).toBe(true);
    const explainMatched = explained.relationships.filter((r) => r.matched).map((r) => r.id);

    const view = await new TenantDirectory({ store: store(), clock: { now: () => Date.now() }, ttlSeconds: 15, context }).get('acme');
    const sessionCandidates = view.trusts.filter((t) => t.relationship.kind === 'x509').map((t) => t.relationship.id);

    expect(sessionCandidates).toEqual([]);
    expect(explainMatched).toEqual(sessionCandidates);
    const listed = explained.relationships.find((r) => r.id === 'zz-x509');
    expect(listed?.checks.slice(0, 2)).toEqual([
      { check: 'enabled', matched: true },
      { check: 'tenant_cap', matched: false },
    ]);
  });
});

describe('explanations of a tenant that is not active', () => {
  it('explain a token as reason tenant with nothing matched, as the exchange refuses it', async () => {
    const tenant = 'inactive';
    await env.admin.tenant(tenant, []);
    await put(ciRelationship(up.issuer, { id: 'ci', conditions: { StringLike: { sub: '*' } } }), true, tenant);
    const token = await up.token({ sub: 'anyone' });
    expect((await explainToken(runtime().explainDeps, tenant, token)).relationships.map((r) => r.matched)).toEqual([true]);
    await env.admin.disable(tenant);
    const explained = await explainToken(runtime().explainDeps, tenant, token);
    expect(explained.reason).toBe('tenant');
    expect(explained.relationships.map((r) => r.matched)).toEqual([false]);
  });

  it('explain a certificate as reason tenant with nothing matched', async () => {
    const deps = { store: store('disabled', 0), clock: { now: () => Date.now() }, context };
    const explained = await explainCertificate(deps, 'acme', { certificate: leaf.certPem });
    expect(explained.reason).toBe('tenant');
    expect(explained.relationships.map((r) => [r.id, r.matched])).toEqual([['zz-x509', false]]);
    const active = await explainCertificate({ ...deps, store: store('active', 0) }, 'acme', { certificate: leaf.certPem });
    expect(active.relationships.map((r) => [r.id, r.matched])).toEqual([['zz-x509', true]]);
  });
});

// Red team: admin reads (list/get/explain) reflect every write acknowledged before the request
// began, never another tenant's data, across warm caches, concurrent requests in one process,
// and cold containers whose prefetch was driven by forged or other-tenant tokens.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type TestBroker } from '../support/broker.ts';
import { startGateway } from '../support/gateway.ts';
import { gatewayClient } from '../support/gateway-client.ts';
import { tenantAdmin } from '../support/tenants.ts';
import { startUpstreamIssuer, type UpstreamIssuer } from '../support/upstream-issuer.ts';
import { relationships } from '../../lib/app/documents.ts';
import { systemClock } from '../../lib/clock.ts';

let broker: TestBroker;
let gateway: Awaited<ReturnType<typeof startGateway>>;
let upstream: UpstreamIssuer;
let adminA: string;
let adminB: string;
let t: ReturnType<typeof tenantAdmin>;

const admin = (sub: string) => ({
  kind: 'oidc' as const,
  id: 'admin',
  audiences: ['fedbroker'],
  conditions: { StringEquals: { sub } },
  scopes: ['trust:admin' as const, 'id-token:issue' as const],
});
const doc = (id: string, extra: Record<string, unknown> = {}) => ({
  kind: 'oidc' as const,
  id,
  issuer: upstream.issuer,
  audiences: ['fedbroker'],
  conditions: { StringLike: { sub: `x-${id}` } },
  scopes: ['id-token:issue' as const],
  ...extra,
});
const { tokenFor, api } = gatewayClient(
  () => gateway.url,
  () => upstream,
);
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const forgedClaims = (tenant: string) => ({
  tenant_id: tenant,
  sub: `${tenant}/x`,
  iss: 'https://issuer.fedbroker.test',
  aud: 'https://issuer.fedbroker.test',
  exp: 4e9,
  iat: 1,
  jti: crypto.randomUUID(),
  scope: 'trust:admin',
  trust: 'admin',
});
const forged = (tenant: string) => `${b64({ alg: 'RS256', typ: 'at+jwt', kid: 'forged' })}.${b64(forgedClaims(tenant))}.${'A'.repeat(342)}`;
// Another container's writes (the CLI, another Lambda): straight to the table, no invalidation here.
const otherContainer = () => ({ store: t.store, clock: systemClock, local: true, cognitoIssuer: 'https://cognito-identity.amazonaws.com' });

beforeAll(async () => {
  broker = await startBroker({ env: { FEDBROKER_LOCAL: 'true', FEDBROKER_TENANT_CACHE_SECONDS: '900' } });
  gateway = await startGateway((m) => broker.load(m));
  upstream = await startUpstreamIssuer();
  t = tenantAdmin(broker.tableName);
  await t.tenant('acme', [{ ...admin('admin-a'), issuer: upstream.issuer }]);
  await t.tenant('globex', [{ ...admin('admin-b'), issuer: upstream.issuer }, doc('globex-secret')]);
  [adminA, adminB] = await Promise.all([tokenFor('acme', 'admin-a'), tokenFor('globex', 'admin-b')]);
});
afterAll(async () => {
  await Promise.all([gateway.close(), upstream.close()]);
  await broker.close();
});

const base = '/v1/tenants/acme/trust-relationships';

describe('admin reads see writes acknowledged before them (warm cache, other container writes)', () => {
  it('create / replace / delete by another container show at once in list and get', async () => {
    // warm the directory cache (15 min TTL) with a read
    expect((await api('GET', base, adminA)).status).toBe(200);
    for (let i = 0; i < 5; i++) {
      const id = `w${i}`;
      const created = await relationships.create(otherContainer(), 'acme', doc(id));
      const list = await api('GET', base, adminA);
      expect(list.body.items.map((r: { id: string }) => r.id)).toContain(id);
      expect((await api('GET', `${base}/${id}`, adminA)).body.version).toBe(created.version);
      const replaced = await relationships.replace(otherContainer(), 'acme', id, doc(id, { enabled: false }), created.version);
      const got = await api('GET', `${base}/${id}`, adminA);
      expect(got.body).toMatchObject({ version: replaced.version, enabled: false });
      const listed = (await api('GET', base, adminA)).body.items.find((r: { id: string }) => r.id === id);
      expect(listed).toMatchObject({ version: replaced.version, enabled: false });
      await relationships.remove(otherContainer(), 'acme', id, replaced.version);
      expect((await api('GET', `${base}/${id}`, adminA)).status).toBe(404);
      expect((await api('GET', base, adminA)).body.items.map((r: { id: string }) => r.id)).not.toContain(id);
    }
  });

  it('concurrent reads in one process each reflect every write acknowledged before they were sent', async () => {
    const acked: { id: string; at: number }[] = [];
    const checks: Promise<void>[] = [];
    let stop = false;
    const reader = async () => {
      while (!stop) {
        const before = acked.map((a) => a.id);
        const res = await api('GET', base, adminA);
        expect(res.status).toBe(200);
        const ids = res.body.items.map((r: { id: string }) => r.id);
        for (const id of before) expect(ids, `missing ${id}`).toContain(id);
        for (const id of ids) expect(id === 'admin' || id.startsWith('c')).toBe(true);
      }
    };
    for (let r = 0; r < 3; r++) checks.push(reader());
    for (let i = 0; i < 12; i++) {
      // alternate writer: this process's own API (invalidates) and another container
      const id = `c${i}`;
      if (i % 2) expect((await api('POST', base, adminA, doc(id))).status).toBe(201);
      else await relationships.create(otherContainer(), 'acme', doc(id));
      acked.push({ id, at: performance.now() });
    }
    stop = true;
    await Promise.all(checks);
    // explain after the writes sees them too
    const ex = await api('POST', `${base}:explain`, adminA, { token: await upstream.token({ sub: 'x-c11', aud: 'fedbroker' }) });
    expect(ex.status, ex.text).toBe(200);
    expect(JSON.stringify(ex.body)).toContain('c11');
    expect(JSON.stringify(ex.body)).not.toContain('globex-secret');
  });
});

describe('cold container: prefetch by forged / other-tenant tokens', () => {
  for (let round = 0; round < 3; round++) {
    it(`round ${round}: a forged token racing acme's admin read never answers with stale or foreign data`, async () => {
      const id = `cold${round}`;
      broker.coldStart();
      // a write acknowledged before the admin request starts, by another container
      await relationships.create(otherContainer(), 'acme', doc(id));
      const [f1, f2, f3, list, one, cross] = await Promise.all([
        api('GET', base, forged('acme')),
        api('GET', '/v1/tenants/globex/trust-relationships', forged('globex')),
        api('GET', base, forged('globex')),
        api('GET', base, adminA),
        api('GET', `${base}/${id}`, adminA),
        api('GET', base, adminB),
      ]);
      expect([f1.status, f2.status, f3.status]).toEqual([401, 401, 401]);
      expect(cross.status).toBe(403);
      expect(list.status, list.text).toBe(200);
      const ids = list.body.items.map((r: { id: string }) => r.id);
      expect(ids).toContain(id);
      expect(ids).not.toContain('globex-secret');
      expect(list.body.items.every((r: { tenant: string }) => r.tenant === 'acme')).toBe(true);
      expect(one.status, one.text).toBe(200);
      expect(one.body.tenant).toBe('acme');
      // globex token asking for its own partition right after: its own data only
      const gl = await api('GET', '/v1/tenants/globex/trust-relationships', adminB);
      expect(gl.body.items.every((r: { tenant: string }) => r.tenant === 'globex')).toBe(true);
    });
  }
  it('cold: an acme admin GET of an id that only exists in globex is 404', async () => {
    broker.coldStart();
    const [g, a] = await Promise.all([
      api('GET', '/v1/tenants/globex/trust-relationships', adminB),
      api('GET', `${base}/globex-secret`, adminA),
    ]);
    expect(g.status).toBe(200);
    expect(a.status).toBe(404);
  });
});

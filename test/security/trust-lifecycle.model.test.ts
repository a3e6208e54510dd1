// Stateful property test of the trust core (threat model invariants I1, I2, I5): random sequences
// of admin changes and token uses over two tenants, run against the real handlers and dynalite,
// and compared after every step with a small reference model of what the tenant's *current*
// relationships allow. The broker must answer exactly as the model does: never grant what the
// model refuses (delete + recreate under the same id, narrowing, disabling, revoking, expiry),
// and never refuse what it grants (so the test cannot pass by refusing everything).
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Scope } from '../../lib/tenants/tenant.ts';
import { startBroker, type TestBroker } from '../support/broker.ts';
import { directApi, type DirectApi } from '../support/direct-api.ts';
import { TOKEN_TYPE } from '../support/exchange-client.ts';
import { tenantAdmin } from '../support/tenants.ts';
import { startUpstreamIssuer, type UpstreamIssuer } from '../support/upstream-issuer.ts';

const IDS = ['r1', 'r2', 'r3'] as const;
const SUBS = ['s1', 's2', 's3'] as const;
const SCOPES: readonly Scope[] = ['id-token:issue', 'trust:admin', 'audit:read'];
/** The broker's settings this model mirrors (FEDBROKER_ACCESS_TOKEN_TTL, FEDBROKER_TENANT_CACHE_SECONDS, the verifier's skew). */
const ACCESS_TTL = 900;
const CACHE_SECONDS = 15;
const TOLERANCE = 5;

interface Spec {
  issuer: 0 | 1;
  subs: string[];
  scopes: Scope[];
  enabled: boolean;
  max: number;
  tag: boolean;
}
interface Rel {
  spec: Spec;
  version: number;
  /** Changes on create and whenever what admits a token changes (issuer, conditions, tags). */
  generation: number;
}
interface TenantModel {
  id: string;
  active: boolean;
  rels: Map<string, Rel>;
  /** Highest version each id ever had: versions never repeat across delete and recreate. */
  lastVersion: Map<string, number>;
}
interface Tok {
  token: string;
  tenant: number;
  rel: string;
  generation: number;
  scopes: Scope[];
  iat: number;
  exp: number;
  revoked: boolean;
}
interface Model {
  tenants: [TenantModel, TenantModel];
  tokens: Tok[];
  nextGeneration: number;
}
interface Real {
  api: DirectApi;
  roots: Map<string, { token: string; exp: number }>;
}

let broker: TestBroker;
let upstreams: [UpstreamIssuer, UpstreamIssuer];
let api: DirectApi;
let admin: ReturnType<typeof tenantAdmin>;
let run = 0;
let steps = 0;

const nowSeconds = () => Math.floor(Date.now() / 1000);
const admission = (s: Spec) => JSON.stringify([s.issuer, [...s.subs].sort(), s.tag]);
const relationshipDoc = (id: string, s: Spec) => ({
  kind: 'oidc',
  id,
  issuer: upstreams[s.issuer].issuer,
  audiences: ['fedbroker'],
  conditions: { StringEquals: { sub: s.subs } },
  scopes: s.scopes,
  enabled: s.enabled,
  max_duration_seconds: s.max,
  ...(s.tag ? { session_tags: { team: { claim: 'team' } } } : {}),
});

/** What the model says a token may do now: undefined when it is refused outright, else its effective scopes. */
function effectiveScopes(m: Model, t: Tok): Scope[] | undefined {
  const tenant = m.tenants[t.tenant]!;
  const rel = tenant.rels.get(t.rel);
  const now = nowSeconds();
  if (!tenant.active || !rel?.spec.enabled || rel.generation !== t.generation || t.revoked) return undefined;
  if (t.exp <= now - TOLERANCE || t.iat + rel.spec.max <= now - TOLERANCE) return undefined;
  return t.scopes.filter((s) => rel.spec.scopes.includes(s));
}

async function rootToken(r: Real, tenant: string): Promise<string> {
  const cached = r.roots.get(tenant);
  if (cached && cached.exp > nowSeconds() + 60) return cached.token;
  const res = await api.exchange({
    subject_token: await upstreams[0].token({ sub: 'root' }),
    subject_token_type: TOKEN_TYPE.idToken,
    tenant,
  });
  expect(res.status, res.text).toBe(200);
  r.roots.set(tenant, { token: res.body.access_token, exp: nowSeconds() + res.body.expires_in });
  return res.body.access_token;
}

const specArb: fc.Arbitrary<Spec> = fc.record({
  issuer: fc.constantFrom(0 as const, 1 as const),
  subs: fc.subarray([...SUBS], { minLength: 1 }),
  scopes: fc.subarray([...SCOPES], { minLength: 1 }),
  enabled: fc.boolean(),
  max: fc.constantFrom(600, 3600),
  tag: fc.boolean(),
});
const tenantArb = fc.constantFrom(0, 1);
const idArb = fc.constantFrom(...IDS);
const step = () => void steps++;

class Create implements fc.AsyncCommand<Model, Real> {
  readonly t: number;
  readonly id: string;
  readonly spec: Spec;
  constructor(t: number, id: string, spec: Spec) {
    this.t = t;
    this.id = id;
    this.spec = spec;
  }
  check = (m: Model) => m.tenants[this.t]!.active;
  async run(m: Model, r: Real) {
    step();
    const tenant = m.tenants[this.t]!;
    const res = await api.call(
      'trustRelationships',
      'POST',
      { tenant: tenant.id },
      await rootToken(r, tenant.id),
      relationshipDoc(this.id, this.spec),
    );
    if (tenant.rels.has(this.id)) return void expect(res.status, res.text).toBe(409);
    expect(res.status, res.text).toBe(201);
    const version = (tenant.lastVersion.get(this.id) ?? 0) + 1;
    expect(res.body.version).toBe(version);
    tenant.lastVersion.set(this.id, version);
    tenant.rels.set(this.id, { spec: this.spec, version, generation: m.nextGeneration++ });
  }
  toString = () => `create(${this.t}, ${this.id}, ${JSON.stringify(this.spec)})`;
}

class Replace implements fc.AsyncCommand<Model, Real> {
  readonly t: number;
  readonly id: string;
  readonly spec: Spec;
  readonly stale: boolean;
  constructor(t: number, id: string, spec: Spec, stale: boolean) {
    this.t = t;
    this.id = id;
    this.spec = spec;
    this.stale = stale;
  }
  check = (m: Model) => m.tenants[this.t]!.active;
  async run(m: Model, r: Real) {
    step();
    const tenant = m.tenants[this.t]!;
    const rel = tenant.rels.get(this.id);
    const ifMatch = `"${(rel?.version ?? tenant.lastVersion.get(this.id) ?? 1) + (this.stale ? -1 : 0)}"`;
    const res = await api.call(
      'trustRelationship',
      'PUT',
      { tenant: tenant.id, id: this.id },
      await rootToken(r, tenant.id),
      relationshipDoc(this.id, this.spec),
      { 'If-Match': ifMatch },
    );
    if (!rel) return void expect(res.status, res.text).toBe(404);
    if (this.stale) return void expect(res.status, res.text).toBe(412);
    expect(res.status, res.text).toBe(200);
    const version = rel.version + 1;
    expect(res.body.version).toBe(version);
    tenant.lastVersion.set(this.id, version);
    const generation = admission(rel.spec) === admission(this.spec) ? rel.generation : m.nextGeneration++;
    tenant.rels.set(this.id, { spec: this.spec, version, generation });
  }
  toString = () => `replace(${this.t}, ${this.id}, ${JSON.stringify(this.spec)}${this.stale ? ', stale' : ''})`;
}

/** A replace that keeps what admits tokens and changes only scopes, enabled and the duration cap: narrowing, widening, disabling. */
class Edit implements fc.AsyncCommand<Model, Real> {
  readonly t: number;
  readonly id: string;
  readonly change: Pick<Spec, 'scopes' | 'enabled' | 'max'>;
  constructor(t: number, id: string, change: Pick<Spec, 'scopes' | 'enabled' | 'max'>) {
    this.t = t;
    this.id = id;
    this.change = change;
  }
  check = (m: Model) => m.tenants[this.t]!.active && m.tenants[this.t]!.rels.has(this.id);
  async run(m: Model, r: Real) {
    step();
    const tenant = m.tenants[this.t]!;
    const rel = tenant.rels.get(this.id)!;
    const spec = { ...rel.spec, ...this.change };
    const res = await api.call(
      'trustRelationship',
      'PUT',
      { tenant: tenant.id, id: this.id },
      await rootToken(r, tenant.id),
      relationshipDoc(this.id, spec),
      { 'If-Match': `"${rel.version}"` },
    );
    expect(res.status, res.text).toBe(200);
    expect(res.body.version).toBe(rel.version + 1);
    tenant.lastVersion.set(this.id, rel.version + 1);
    tenant.rels.set(this.id, { spec, version: rel.version + 1, generation: rel.generation });
  }
  toString = () => `edit(${this.t}, ${this.id}, ${JSON.stringify(this.change)})`;
}

class Delete implements fc.AsyncCommand<Model, Real> {
  readonly t: number;
  readonly id: string;
  readonly stale: boolean;
  constructor(t: number, id: string, stale: boolean) {
    this.t = t;
    this.id = id;
    this.stale = stale;
  }
  check = (m: Model) => m.tenants[this.t]!.active;
  async run(m: Model, r: Real) {
    step();
    const tenant = m.tenants[this.t]!;
    const rel = tenant.rels.get(this.id);
    const ifMatch = `"${(rel?.version ?? 1) + (this.stale ? 1 : 0)}"`;
    const res = await api.call(
      'trustRelationship',
      'DELETE',
      { tenant: tenant.id, id: this.id },
      await rootToken(r, tenant.id),
      undefined,
      { 'If-Match': ifMatch },
    );
    if (!rel) return void expect(res.status, res.text).toBe(404);
    if (this.stale) return void expect(res.status, res.text).toBe(412);
    expect(res.status, res.text).toBe(204);
    tenant.rels.delete(this.id);
  }
  toString = () => `delete(${this.t}, ${this.id}${this.stale ? ', stale' : ''})`;
}

class Exchange implements fc.AsyncCommand<Model, Real> {
  readonly t: number;
  readonly sub: string;
  readonly issuer: 0 | 1;
  constructor(t: number, sub: string, issuer: 0 | 1) {
    this.t = t;
    this.sub = sub;
    this.issuer = issuer;
  }
  check = () => true;
  async run(m: Model) {
    step();
    const tenant = m.tenants[this.t]!;
    const res = await api.exchange({
      subject_token: await upstreams[this.issuer].token({ sub: this.sub, team: 'blue' }),
      subject_token_type: TOKEN_TYPE.idToken,
      tenant: tenant.id,
    });
    const match = tenant.active
      ? [...tenant.rels.entries()]
          .sort(([a], [b]) => a.localeCompare(b))
          .find(([, rel]) => rel.spec.enabled && rel.spec.issuer === this.issuer && rel.spec.subs.includes(this.sub))
      : undefined;
    if (!match) {
      expect(res.status, res.text).toBe(400);
      return void expect(res.body.error).toBe('invalid_request');
    }
    expect(res.status, res.text).toBe(200);
    const [id, rel] = match;
    const ttl = Math.min(ACCESS_TTL, rel.spec.max);
    expect(res.body.expires_in).toBe(ttl);
    expect(new Set(String(res.body.scope).split(' '))).toEqual(new Set(rel.spec.scopes));
    const iat = nowSeconds();
    m.tokens.push({
      token: res.body.access_token,
      tenant: this.t,
      rel: id,
      generation: rel.generation,
      scopes: rel.spec.scopes,
      iat,
      exp: iat + ttl,
      revoked: false,
    });
  }
  toString = () => `exchange(${this.t}, ${this.sub}, issuer ${this.issuer})`;
}

class IssueIdToken implements fc.AsyncCommand<Model, Real> {
  readonly k: number;
  constructor(k: number) {
    this.k = k;
  }
  check = (m: Model) => m.tokens.length > 0;
  async run(m: Model) {
    step();
    const t = m.tokens[this.k % m.tokens.length]!;
    const res = await api.exchange({
      subject_token: t.token,
      subject_token_type: TOKEN_TYPE.accessToken,
      requested_token_type: TOKEN_TYPE.idToken,
      audience: 'sts.amazonaws.com',
    });
    const scopes = effectiveScopes(m, t);
    if (scopes?.includes('id-token:issue')) return void expect(res.status, res.text).toBe(200);
    expect(res.status, res.text).toBe(400);
    expect(res.body.error, res.text).toBe(scopes ? 'invalid_scope' : 'invalid_request');
  }
  toString = () => `idToken(#${this.k})`;
}

class ListAsAdmin implements fc.AsyncCommand<Model, Real> {
  readonly k: number;
  readonly target: number;
  constructor(k: number, target: number) {
    this.k = k;
    this.target = target;
  }
  check = (m: Model) => m.tokens.length > 0;
  async run(m: Model) {
    step();
    const t = m.tokens[this.k % m.tokens.length]!;
    const target = m.tenants[this.target]!;
    const res = await api.call('trustRelationships', 'GET', { tenant: target.id }, t.token);
    const scopes = effectiveScopes(m, t);
    if (!scopes) return void expect(res.status, res.text).toBe(401);
    if (!scopes.includes('trust:admin') || this.target !== t.tenant) return void expect(res.status, res.text).toBe(403);
    expect(res.status, res.text).toBe(200);
    const listed = (res.body.items as { id: string; version: number }[]).filter((d) => d.id !== 'root').map((d) => [d.id, d.version]);
    expect(listed).toEqual([...target.rels.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([id, rel]) => [id, rel.version]));
  }
  toString = () => `list(#${this.k} on ${this.target})`;
}

class Revoke implements fc.AsyncCommand<Model, Real> {
  readonly k: number;
  constructor(k: number) {
    this.k = k;
  }
  check = (m: Model) => m.tokens.length > 0 && m.tenants[m.tokens[this.k % m.tokens.length]!.tenant]!.active;
  async run(m: Model, r: Real) {
    step();
    const t = m.tokens[this.k % m.tokens.length]!;
    const tenant = m.tenants[t.tenant]!;
    const res = await api.call('revocations', 'POST', { tenant: tenant.id }, await rootToken(r, tenant.id), { token: t.token });
    expect(res.status, res.text).toBe(200);
    const live = t.exp > nowSeconds() - TOLERANCE;
    expect(res.body.revoked).toBe(live);
    if (live) t.revoked = true;
  }
  toString = () => `revoke(#${this.k})`;
}

class SetTenantStatus implements fc.AsyncCommand<Model, Real> {
  readonly t: number;
  readonly active: boolean;
  constructor(t: number, active: boolean) {
    this.t = t;
    this.active = active;
  }
  check = () => true;
  async run(m: Model, r: Real) {
    step();
    const tenant = m.tenants[this.t]!;
    // The operator's CLI writes the table from elsewhere: this container sees it within the bound.
    await (this.active ? admin.enable(tenant.id) : admin.disable(tenant.id));
    vi.setSystemTime(Date.now() + (CACHE_SECONDS + 1) * 1000);
    tenant.active = this.active;
    r.roots.delete(tenant.id);
  }
  toString = () => `tenant(${this.t}, ${this.active ? 'enable' : 'disable'})`;
}

class AdvanceClock implements fc.AsyncCommand<Model, Real> {
  readonly seconds: number;
  constructor(seconds: number) {
    this.seconds = seconds;
  }
  check = () => true;
  async run() {
    step();
    vi.setSystemTime(Date.now() + this.seconds * 1000);
  }
  toString = () => `advance(${this.seconds}s)`;
}

const commands = [
  fc.tuple(tenantArb, idArb, specArb).map(([t, id, s]) => new Create(t, id, s)),
  fc.tuple(tenantArb, idArb, specArb, fc.boolean()).map(([t, id, s, stale]) => new Replace(t, id, s, stale)),
  fc
    .tuple(
      tenantArb,
      idArb,
      fc.record({ scopes: fc.subarray([...SCOPES], { minLength: 1 }), enabled: fc.boolean(), max: fc.constantFrom(600, 3600) }),
    )
    .map(([t, id, change]) => new Edit(t, id, change)),
  fc.tuple(tenantArb, idArb, fc.boolean()).map(([t, id, stale]) => new Delete(t, id, stale)),
  fc.tuple(tenantArb, fc.constantFrom(...SUBS), fc.constantFrom(0 as const, 1 as const)).map(([t, sub, i]) => new Exchange(t, sub, i)),
  fc.tuple(tenantArb, fc.constantFrom(...SUBS), fc.constantFrom(0 as const, 1 as const)).map(([t, sub, i]) => new Exchange(t, sub, i)),
  fc.nat(50).map((k) => new IssueIdToken(k)),
  fc.tuple(fc.nat(50), tenantArb).map(([k, t]) => new ListAsAdmin(k, t)),
  fc.nat(50).map((k) => new Revoke(k)),
  fc.tuple(tenantArb, fc.boolean()).map(([t, a]) => new SetTenantStatus(t, a)),
  fc.integer({ min: 1, max: 1500 }).map((s) => new AdvanceClock(s)),
];

beforeAll(async () => {
  vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
  broker = await startBroker({
    signer: 'local',
    alg: 'ES256',
    env: { FEDBROKER_TENANT_CACHE_SECONDS: String(CACHE_SECONDS), FEDBROKER_ACCESS_TOKEN_TTL: String(ACCESS_TTL) },
  });
  upstreams = [await startUpstreamIssuer({ alg: 'ES256' }), await startUpstreamIssuer({ alg: 'ES256' })];
  api = directApi(broker);
  admin = tenantAdmin(broker.tableName);
}, 60_000);
afterAll(async () => {
  vi.useRealTimers();
  await Promise.all(upstreams.map((u) => u.close()));
  await broker.close();
});

describe('the trust core against a reference model', () => {
  it('grants exactly what the tenant’s current relationships allow, over 10,000 random steps of admin changes and token uses', async () => {
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 100, size: 'max' }), async (cmds) => {
        run++;
        const ids = [`ta-${run}`, `tb-${run}`];
        const root = {
          kind: 'oidc' as const,
          id: 'root',
          issuer: upstreams[0].issuer,
          audiences: ['fedbroker'],
          conditions: { StringEquals: { sub: 'root' } },
          scopes: ['trust:admin' as const],
        };
        for (const id of ids) await admin.tenant(id, [root]);
        const tenant = (id: string): TenantModel => ({ id, active: true, rels: new Map(), lastVersion: new Map() });
        const model: Model = { tenants: [tenant(ids[0]!), tenant(ids[1]!)], tokens: [], nextGeneration: 1 };
        await fc.asyncModelRun(() => ({ model, real: { api, roots: new Map() } }), cmds);
      }),
      { numRuns: 400 },
    );
    expect(steps).toBeGreaterThanOrEqual(10_000);
  }, 600_000);
});

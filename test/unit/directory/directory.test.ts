import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Revocation } from '../../../lib/revocation/ports.ts';
import { TenantDirectory } from '../../../lib/directory/directory.ts';
import type { TrustStore } from '../../../lib/directory/ports.ts';
import type { Tenant } from '../../../lib/tenants/tenant.ts';
import type { TrustRelationship } from '../../../lib/trust/schema.ts';

const context = { cognitoIssuer: 'https://cognito-identity.amazonaws.com', developerProvider: 'fedbroker' };
const tenant = (status: Tenant['status']): Tenant => ({ id: 'acme', name: 'acme', status, version: 1, created_at: '', updated_at: '' });
const relationship = (id: string, enabled = true): TrustRelationship => ({
  kind: 'oidc',
  id,
  tenant: 'acme',
  generation: `g-${id}`,
  issuer: 'https://issuer.example',
  audiences: ['fedbroker'],
  conditions: { StringEquals: { sub: 'x' } },
  scopes: ['id-token:issue'],
  id_token_audiences: ['sts.amazonaws.com'],
  max_duration_seconds: 3600,
  subject_template: '{trust}/{claims.sub}',
  session_tags: {},
  enabled,
  version: 1,
  created_at: '',
  updated_at: '',
});

function fakeStore(state: { tenant: Tenant; relationships: TrustRelationship[]; revocations?: Revocation[] }) {
  let reads = 0;
  const store = {
    readTenant: async () => {
      reads++;
      return { tenant: state.tenant, relationships: state.relationships, pools: [], revocations: state.revocations ?? [] };
    },
  } as unknown as TrustStore;
  return { store, reads: () => reads };
}

describe('TenantDirectory', () => {
  it('reads the store once per tenant within the cache bound', async () => {
    const clock = { now: () => 0 };
    const { store, reads } = fakeStore({ tenant: tenant('active'), relationships: [relationship('a')] });
    const directory = new TenantDirectory({ store, clock, ttlSeconds: 15, context });
    await Promise.all([directory.get('acme'), directory.get('acme')]);
    clock.now = () => 14_999;
    await directory.get('acme');
    expect(reads()).toBe(1);
  });

  it('sees a disabled tenant once the cache bound has passed', async () => {
    let now = 0;
    const state = { tenant: tenant('active'), relationships: [relationship('a')] };
    const { store } = fakeStore(state);
    const directory = new TenantDirectory({ store, clock: { now: () => now }, ttlSeconds: 15, context });
    expect((await directory.get('acme')).tenant?.status).toBe('active');
    state.tenant = tenant('disabled');
    now = 15_000;
    expect((await directory.get('acme')).tenant?.status).toBe('disabled');
  });

  // The kill switch bound the README documents (FEDBROKER_TENANT_CACHE_SECONDS).
  it('keeps a disabled relationship usable for less than the cache bound, and not a moment longer', async () => {
    let now = 0;
    const state = { tenant: tenant('active'), relationships: [relationship('ci')] };
    const { store } = fakeStore(state);
    const directory = new TenantDirectory({ store, clock: { now: () => now }, ttlSeconds: 15, context });
    const usable = async () => (await directory.get('acme')).trusts.some((t) => t.relationship.id === 'ci');
    expect(await usable()).toBe(true);
    state.relationships = [relationship('ci', false)];
    now = 14_999;
    expect(await usable()).toBe(true);
    now = 15_000;
    expect(await usable()).toBe(false);
  });

  it('leaves out disabled relationships and orders the rest by id', async () => {
    const { store } = fakeStore({
      tenant: tenant('active'),
      relationships: [relationship('b'), relationship('off', false), relationship('a')],
    });
    const view = await new TenantDirectory({ store, clock: { now: () => 0 }, ttlSeconds: 15, context }).get('acme');
    expect(view.trusts.map((t) => t.relationship.id)).toEqual(['a', 'b']);
  });

  it('skips a stored relationship that no longer compiles', async () => {
    const broken = { ...relationship('z'), conditions: { NoSuchOperator: { sub: 'x' } } };
    const { store } = fakeStore({ tenant: tenant('active'), relationships: [broken, relationship('a')] });
    const view = await new TenantDirectory({ store, clock: { now: () => 0 }, ttlSeconds: 15, context }).get('acme');
    expect(view.trusts.map((t) => t.relationship.id)).toEqual(['a']);
  });

  it('carries the deny list with the latest expiry of each jti', async () => {
    const revocations = [
      { jti: 'a', tenant: 'acme', exp: 100 },
      { jti: 'b', tenant: 'acme', exp: 50 },
      // Two concurrent revocations of one jti can leave two entries; the later expiry holds.
      { jti: 'a', tenant: 'acme', exp: 300 },
      { jti: 'a', tenant: 'acme', exp: 200 },
    ];
    const { store } = fakeStore({ tenant: tenant('active'), relationships: [], revocations });
    const view = await new TenantDirectory({ store, clock: { now: () => 0 }, ttlSeconds: 15, context }).get('acme');
    expect(Object.fromEntries(view.revoked)).toEqual({ a: 300, b: 50 });
  });

  it('does not cache a failed read', async () => {
    let fail = true;
    const store = {
      readTenant: async () => {
        if (fail) throw new Error('down');
        return { tenant: tenant('active'), relationships: [], pools: [], revocations: [] };
      },
    } as unknown as TrustStore;
    const directory = new TenantDirectory({ store, clock: { now: () => 0 }, ttlSeconds: 15, context });
    await expect(directory.get('acme')).rejects.toThrow('down');
    fail = false;
    expect((await directory.get('acme')).tenant?.status).toBe('active');
  });
});

describe('TenantDirectory.readSince (admin reads)', () => {
  /** A store whose tenants carry a version, bumped by each write; reads take it when they start. */
  function versionedStore() {
    const versions = new Map<string, number>();
    const reads: string[] = [];
    let failNext = false;
    const store = {
      readTenant: (id: string) => {
        reads.push(id);
        const version = versions.get(id) ?? 0;
        if (failNext) {
          failNext = false;
          return Promise.reject(new Error('down'));
        }
        return Promise.resolve({ tenant: { ...tenant('active'), id, version }, relationships: [], pools: [], revocations: [] });
      },
    } as unknown as TrustStore;
    return {
      store,
      reads,
      write: (id: string) => versions.set(id, (versions.get(id) ?? 0) + 1),
      version: (id: string) => versions.get(id) ?? 0,
      failNext: () => (failNext = true),
    };
  }
  const directoryOver = (store: TrustStore, now = () => 0) => new TenantDirectory({ store, clock: { now }, ttlSeconds: 15, context });

  it('reuses the read its own request started (the prefetch) instead of reading again', async () => {
    const s = versionedStore();
    const directory = directoryOver(s.store);
    const since = performance.now();
    await directory.get('acme');
    expect((await directory.readSince('acme', since)).tenant?.version).toBe(0);
    expect(s.reads).toEqual(['acme']);
  });

  it('reads again when the cached read started before the request, and sees the writes made meanwhile', async () => {
    const s = versionedStore();
    const directory = directoryOver(s.store);
    await directory.get('acme');
    s.write('acme');
    const since = performance.now();
    expect((await directory.readSince('acme', since)).tenant?.version).toBe(1);
    expect(s.reads).toEqual(['acme', 'acme']);
    // The newer read is what the cache keeps: the exchange path sees it too, without a third read.
    expect((await directory.get('acme')).tenant?.version).toBe(1);
    expect(s.reads).toHaveLength(2);
  });

  it('tells whether the request already read the tenant, without reading (single documents)', async () => {
    const s = versionedStore();
    const directory = directoryOver(s.store);
    await directory.get('acme');
    const since = performance.now();
    expect(directory.readMadeSince('acme', since)).toBeUndefined();
    await directory.readSince('acme', since);
    expect((await directory.readMadeSince('acme', since))?.tenant?.id).toBe('acme');
    expect(s.reads).toHaveLength(2);
  });

  it('never answers for one tenant with the read of another', async () => {
    const s = versionedStore();
    const directory = directoryOver(s.store);
    const since = performance.now();
    await directory.get('other');
    expect((await directory.readSince('acme', since)).tenant?.id).toBe('acme');
    expect(s.reads).toEqual(['other', 'acme']);
  });

  it('reads again after an invalidation, even within the same request', async () => {
    const s = versionedStore();
    const directory = directoryOver(s.store);
    const since = performance.now();
    await directory.readSince('acme', since);
    s.write('acme');
    directory.invalidate('acme');
    expect((await directory.readSince('acme', since)).tenant?.version).toBe(1);
  });

  it('does not keep a failed read, and an older failure never drops a newer read', async () => {
    const s = versionedStore();
    const directory = directoryOver(s.store);
    s.failNext();
    const failed = directory.get('acme');
    const fresh = directory.readSince('acme', performance.now() + 1e9);
    await expect(failed).rejects.toThrow('down');
    expect((await fresh).tenant?.id).toBe('acme');
    await directory.get('acme');
    expect(s.reads).toHaveLength(2);
  });

  // The invariant (threat model I1): whatever the interleaving of requests, prefetches, this
  // container's writes (which invalidate) and other containers' writes (which do not), an admin
  // read reflects every write acknowledged before its request began.
  it('reflects every write acknowledged before the request, over random sequences', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('request' as const), tenant: fc.constantFrom('acme', 'beta') }),
      fc.record({ kind: fc.constant('prefetch' as const), tenant: fc.constantFrom('acme', 'beta') }),
      fc.record({ kind: fc.constant('read' as const) }),
      fc.record({ kind: fc.constantFrom('local-write' as const, 'remote-write' as const), tenant: fc.constantFrom('acme', 'beta') }),
      fc.record({ kind: fc.constant('clock' as const), ms: fc.integer({ min: 0, max: 20_000 }) }),
    );
    return fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 40 }), async (ops) => {
        const s = versionedStore();
        let now = 0;
        const directory = directoryOver(s.store, () => now);
        let request: { tenant: string; since: number; floor: number } | undefined;
        for (const o of ops) {
          if (o.kind === 'request') request = { tenant: o.tenant, since: performance.now(), floor: s.version(o.tenant) };
          else if (o.kind === 'prefetch') await directory.get(o.tenant);
          else if (o.kind === 'clock') now += o.ms;
          else if (o.kind === 'local-write' || o.kind === 'remote-write') {
            s.write(o.tenant);
            if (o.kind === 'local-write') directory.invalidate(o.tenant);
          } else if (request) {
            const record = await directory.readSince(request.tenant, request.since);
            expect(record.tenant?.id).toBe(request.tenant);
            expect(record.tenant?.version).toBeGreaterThanOrEqual(request.floor);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});

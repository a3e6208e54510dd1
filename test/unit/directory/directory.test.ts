import { describe, expect, it } from 'vitest';
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

// A cold container reads the tenant an access token names alongside the key registry (one round
// trip instead of two in a row). The name is unverified, so what must hold: the read happens only
// while the key ring has never loaded, it only fills the directory's cache, garbage reads nothing,
// and a failed read is neither reported nor kept. Real key ring (dynalite + KMS stand-in), real
// directory over a counting store.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { relationships } from '../../../lib/app/documents.ts';
import { prefetchTenant } from '../../../lib/auth/tenant-prefetch.ts';
import { DynamoRevocationStore } from '../../../lib/aws/dynamo-revocation-store.ts';
import { TenantDenyList } from '../../../lib/directory/deny-list.ts';
import { TenantDirectory } from '../../../lib/directory/directory.ts';
import type { TrustStore } from '../../../lib/directory/ports.ts';
import { MAX_TOKEN_BYTES } from '../../../lib/limits.ts';
import { verifyAccessToken } from '../../../lib/tokens/access-token.ts';
import { mintAccessToken } from '../../../lib/tokens/mint.ts';
import { startBroker, type TestBroker } from '../../support/broker.ts';
import { kmsKeyRing, TEST_ISSUER, testPrincipal } from '../../support/key-ring.ts';

const ISSUER = TEST_ISSUER;
const context = { cognitoIssuer: 'https://cognito-identity.amazonaws.com', developerProvider: 'fedbroker' };
let broker: TestBroker;

beforeAll(async () => {
  broker = await startBroker();
});
afterAll(async () => broker.close());

/** The tenants read, in order; `fail` makes the next read reject. */
function countingStore() {
  const reads: string[] = [];
  let fail = false;
  const store = {
    readTenant: async (tenant: string) => {
      reads.push(tenant);
      if (fail) {
        fail = false;
        throw new Error('store unavailable');
      }
      return { tenant: undefined, relationships: [], pools: [], revocations: [] };
    },
  } as unknown as TrustStore;
  return { store, reads, failNext: () => (fail = true) };
}

/** A token minted through one key ring, and a second ring over the same registry that has not loaded yet (a cold container). */
async function setup() {
  const clock = { now: () => Date.now() };
  const { table, signer, ring } = await kmsKeyRing(broker, clock, 'prefetch');
  const { token } = await mintAccessToken({ issuer: ISSUER, keyRing: ring(), signer, clock }, testPrincipal, 900);
  const keyRing = ring();
  const counting = countingStore();
  const directory = new TenantDirectory({ store: counting.store, clock, ttlSeconds: 15, context });
  const revocations = new TenantDenyList({ directory, writer: new DynamoRevocationStore(table) });
  return { token, keyRing, directory, counting, deps: { issuer: ISSUER, keyRing, clock, revocations } };
}

const segment = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('tenant prefetch on a cold container', () => {
  it('reads the tenant the token names while the key ring loads, and the verified use is served from that read', async () => {
    const { token, keyRing, directory, counting, deps } = await setup();
    expect(keyRing.cold).toBe(true);
    prefetchTenant({ keyRing, directory }, token);
    expect(counting.reads).toEqual(['acme']);
    await verifyAccessToken(token, deps);
    expect(counting.reads).toEqual(['acme']);
  });

  it('reads nothing once the key ring has loaded, even after the ring forgets its registry', async () => {
    const { token, keyRing, directory, counting, deps } = await setup();
    await verifyAccessToken(token, deps);
    expect(keyRing.cold).toBe(false);
    keyRing.invalidate();
    directory.invalidate('acme');
    prefetchTenant({ keyRing, directory }, token);
    prefetchTenant({ keyRing, directory }, `x.${segment({ tenant_id: 'other' })}.y`);
    expect(counting.reads).toEqual(['acme']);
  });

  it.each([
    ['no payload segment', 'abc'],
    ['a payload that is not base64url JSON', 'a.%%%.c'],
    ['a payload that is not an object', `a.${segment('acme')}.c`],
    ['no tenant_id', `a.${segment({ sub: 'x' })}.c`],
    ['a tenant_id that is not a string', `a.${segment({ tenant_id: ['acme'] })}.c`],
    ['a tenant_id that is not a tenant id', `a.${segment({ tenant_id: '../acme' })}.c`],
    ['a token over the size cap', `a.${segment({ tenant_id: 'acme', pad: 'x'.repeat(MAX_TOKEN_BYTES) })}.c`],
  ])('reads nothing for a token with %s', async (_case, token) => {
    const { keyRing, directory, counting } = await setup();
    prefetchTenant({ keyRing, directory }, token);
    expect(counting.reads).toEqual([]);
  });

  it('keeps a failed read to itself and does not cache it: the verified use reads again', async () => {
    const { token, keyRing, directory, counting, deps } = await setup();
    counting.failNext();
    prefetchTenant({ keyRing, directory }, token);
    // Let the rejected read settle (and leave the cache) before the token is used.
    await new Promise((resolve) => setImmediate(resolve));
    await verifyAccessToken(token, deps);
    expect(counting.reads).toEqual(['acme', 'acme']);
  });

  describe("an admin request's own reads", () => {
    /** Admin deps as lib/handlers/documents.ts wires them for a request that began at `since`. */
    const adminDeps = (ctx: Awaited<ReturnType<typeof setup>>, since: number) => ({
      store: ctx.counting.store,
      clock: { now: () => Date.now() },
      local: false,
      cognitoIssuer: context.cognitoIssuer,
      readTenant: (t: string) => ctx.directory.readSince(t, since),
      tenantReadSoFar: (t: string) => ctx.directory.readMadeSince(t, since),
    });

    it('answers a list and a single document from the read the prefetch made, reading the tenant once', async () => {
      const ctx = await setup();
      const since = performance.now();
      prefetchTenant({ keyRing: ctx.keyRing, directory: ctx.directory }, ctx.token);
      await verifyAccessToken(ctx.token, ctx.deps);
      // The counting store has no tenant: both answers come from its one read, GetItem never runs.
      await expect(relationships.list(adminDeps(ctx, since), 'acme')).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
      await expect(relationships.get(adminDeps(ctx, since), 'acme', 'ci')).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
      expect(ctx.counting.reads).toEqual(['acme']);
    });

    it('reads again for a request that began after the prefetch started', async () => {
      const ctx = await setup();
      prefetchTenant({ keyRing: ctx.keyRing, directory: ctx.directory }, ctx.token);
      await verifyAccessToken(ctx.token, ctx.deps);
      const later = performance.now();
      await expect(relationships.list(adminDeps(ctx, later), 'acme')).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
      expect(ctx.counting.reads).toEqual(['acme', 'acme']);
    });
  });
});

import { describe, expect, it } from 'vitest';
import { TenantDenyList } from '../../../lib/directory/deny-list.ts';
import type { Revocation, RevocationWriter } from '../../../lib/revocation/ports.ts';
import { TenantDirectory } from '../../../lib/directory/directory.ts';
import type { TenantRecord, TrustStore } from '../../../lib/directory/ports.ts';

const context = { cognitoIssuer: 'https://cognito-identity.amazonaws.com', developerProvider: 'fedbroker' };

/** A table shared by every "container": deny-list entries per tenant, and a count of tenant reads. */
function sharedTable() {
  const entries: Revocation[] = [];
  const reads: string[] = [];
  const store = {
    readTenant: async (tenant: string): Promise<TenantRecord> => {
      reads.push(tenant);
      return {
        tenant: undefined,
        relationships: [],
        pools: [],
        revocations: entries.filter((e) => e.tenant === tenant).map((e) => ({ ...e })),
      };
    },
  } as unknown as TrustStore;
  const writer: RevocationWriter = {
    write: async (entry) => {
      entries.push({ ...entry });
      return 'revoked';
    },
  };
  return { store, writer, entries, reads };
}

/** One container: its own tenant directory (cache) over the shared table, on `clock`. */
function container(table: ReturnType<typeof sharedTable>, clock: { now(): number }) {
  return new TenantDenyList({
    directory: new TenantDirectory({ store: table.store, clock, ttlSeconds: 15, context }),
    writer: table.writer,
  });
}

const T0 = 1_700_000_000;

describe('TenantDenyList', () => {
  it('refuses a revoked token on its next use in the container that revoked it, without waiting', async () => {
    const table = sharedTable();
    const here = container(table, { now: () => T0 * 1000 });
    expect(await here.isRevoked('jti-1', 'acme', T0)).toBe(false);
    expect(await here.revoke({ jti: 'jti-1', tenant: 'acme', exp: T0 + 600 }, T0)).toBe('revoked');
    expect(await here.isRevoked('jti-1', 'acme', T0)).toBe(true);
  });

  it('refuses it in another warm container once the tenant cache bound has passed, and not before', async () => {
    const table = sharedTable();
    let now = T0 * 1000;
    const clock = { now: () => now };
    const [here, there] = [container(table, clock), container(table, clock)];
    expect(await there.isRevoked('jti-1', 'acme', T0)).toBe(false); // cached before the revocation
    await here.revoke({ jti: 'jti-1', tenant: 'acme', exp: T0 + 600 }, T0);
    now += 14_999;
    expect(await there.isRevoked('jti-1', 'acme', T0 + 14)).toBe(false);
    now += 1;
    expect(await there.isRevoked('jti-1', 'acme', T0 + 15)).toBe(true);
  });

  it('answers from the cached tenant view: one read per tenant within the cache bound, however many checks', async () => {
    const table = sharedTable();
    const here = container(table, { now: () => T0 * 1000 });
    for (let i = 0; i < 20; i++) await here.isRevoked(`jti-${i}`, 'acme', T0);
    expect(table.reads).toEqual(['acme']);
  });

  it.each([
    ['a live entry of the tenant', { jti: 'j', tenant: 'acme', exp: T0 + 60 }, 'acme', true],
    ['an entry expiring at the instant of use', { jti: 'j', tenant: 'acme', exp: T0 }, 'acme', true],
    ['an expired entry (TTL deletes late)', { jti: 'j', tenant: 'acme', exp: T0 - 1 }, 'acme', false],
    ['an entry of another tenant for the same jti', { jti: 'j', tenant: 'globex', exp: T0 + 60 }, 'acme', false],
    ['an entry for another jti', { jti: 'k', tenant: 'acme', exp: T0 + 60 }, 'acme', false],
  ] as const)('isRevoked with %s', async (_case, entry, tenant, revoked) => {
    const table = sharedTable();
    table.entries.push({ ...entry });
    expect(await container(table, { now: () => T0 * 1000 }).isRevoked('j', tenant, T0)).toBe(revoked);
  });

  it('drops the cached view even when the write fails (it may have landed first)', async () => {
    const table = sharedTable();
    const here = new TenantDenyList({
      directory: new TenantDirectory({ store: table.store, clock: { now: () => T0 * 1000 }, ttlSeconds: 15, context }),
      writer: {
        write: async (entry) => {
          table.entries.push({ ...entry });
          throw new Error('timed out after writing');
        },
      },
    });
    expect(await here.isRevoked('jti-1', 'acme', T0)).toBe(false);
    await expect(here.revoke({ jti: 'jti-1', tenant: 'acme', exp: T0 + 60 }, T0)).rejects.toThrow('timed out');
    expect(await here.isRevoked('jti-1', 'acme', T0)).toBe(true);
  });
});

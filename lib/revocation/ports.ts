/** One deny-list entry: the access token `jti` of `tenant`, refused until `exp` (epoch seconds). */
export interface Revocation {
  jti: string;
  tenant: string;
  exp: number;
}

/**
 * Most live (unexpired) deny-list entries one tenant can hold. The list travels with the tenant
 * in every container's cached read, so it must stay small: 1,000 entries of about 100 bytes are
 * about 100 KB, one Query page (DynamoDB pages at 1 MB). A tenant that needs more has a leak a
 * kill switch handles better: disabling the trust relationship stops every token it issued.
 */
export const REVOCATION_CAP = 1000;

/** What writing an entry did: `full` when the tenant already holds {@link REVOCATION_CAP} live entries. */
export type RevokeOutcome = 'revoked' | 'full';

/**
 * The access-token deny list as the token paths see it. Entries live in their tenant's own
 * partition, so one tenant's entry can never match another tenant's token.
 */
export interface RevocationStore {
  /**
   * True when `tenant` has revoked `jti` and the entry has not expired at `atSeconds`. Answered
   * from the tenant's cached view (no store read when warm): a revocation recorded in another
   * container is seen within FEDBROKER_TENANT_CACHE_SECONDS.
   */
  isRevoked(jti: string, tenant: string, atSeconds: number): Promise<boolean>;
  /**
   * Writes the entry; entries expiring before `liveAt` are dead (the token is refused by its
   * `exp` anyway) and neither count nor block. Idempotent: an existing entry is only ever extended.
   */
  revoke(entry: Revocation, liveAt: number): Promise<RevokeOutcome>;
}

/** Storage port for deny-list entries (reads go through the tenant's partition, `TrustStore.readTenant`). */
export interface RevocationWriter {
  /** As {@link RevocationStore.revoke}, against the store itself; enforces the cap under concurrent writers. */
  write(entry: Revocation, liveAt: number): Promise<RevokeOutcome>;
}

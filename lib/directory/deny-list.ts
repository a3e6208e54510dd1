import type { TenantDirectory } from './directory.ts';
import type { Revocation, RevocationStore, RevocationWriter, RevokeOutcome } from '../revocation/ports.ts';

/**
 * The deny list served from the {@link TenantDirectory}: each tenant's entries are part of its
 * cached view, so checking a token costs no store read in a warm container. Revocation thereby
 * has the kill switches' bound: immediate in the container that wrote it (its cached view is
 * dropped), within FEDBROKER_TENANT_CACHE_SECONDS in every other warm container.
 */
export class TenantDenyList implements RevocationStore {
  readonly #directory: TenantDirectory;
  readonly #writer: RevocationWriter;

  constructor(deps: { directory: TenantDirectory; writer: RevocationWriter }) {
    this.#directory = deps.directory;
    this.#writer = deps.writer;
  }

  async isRevoked(jti: string, tenant: string, atSeconds: number): Promise<boolean> {
    const exp = (await this.#directory.get(tenant)).revoked.get(jti);
    // Expired entries stay in the view until TTL deletes them (late on DynamoDB, never on dynalite).
    return exp !== undefined && exp >= atSeconds;
  }

  async revoke(entry: Revocation, liveAt: number): Promise<RevokeOutcome> {
    try {
      return await this.#writer.write(entry, liveAt);
    } finally {
      // Even after a failure: the entry may have been written before it.
      this.#directory.invalidate(entry.tenant);
    }
  }
}

/** One deny-list entry: the access token `jti` of `tenant`, refused until `exp` (epoch seconds). */
export interface Revocation {
  jti: string;
  tenant: string;
  exp: number;
}

/**
 * Storage port of the access-token deny list (DynamoDB item `REVOKED#<jti> / REVOKED`, TTL
 * `expires_at` = the token's `exp`, so an entry lives exactly as long as the token it stops).
 */
export interface RevocationStore {
  /**
   * True when `jti` is revoked for `tenant` and the entry has not expired at `atSeconds`.
   * An entry written by another tenant never matches: a tenant can only revoke its own tokens.
   * Expiry is checked here because TTL deletion is late (DynamoDB) or never happens (dynalite).
   */
  isRevoked(jti: string, tenant: string, atSeconds: number): Promise<boolean>;
  /**
   * Writes the entry. Idempotent: an existing entry of the same tenant is only ever extended.
   * An entry of another tenant for the same `jti` is replaced only when `proven` (the caller
   * verified the token itself, so the jti is this tenant's and the other entry protects nothing);
   * otherwise it is kept (replacing it could un-revoke that tenant's token) and the answer is
   * `held_by_another_tenant`.
   */
  revoke(entry: Revocation, options: { proven: boolean }): Promise<'revoked' | 'held_by_another_tenant'>;
}

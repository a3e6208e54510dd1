import type { TenantDirectory } from '../directory/directory.ts';
import { unverifiedClaims } from '../jws.ts';
import type { KeyRing } from '../keys/keyring.ts';
import { MAX_TOKEN_BYTES } from '../limits.ts';
import { TENANT_ID } from '../tenants/tenant.ts';

/**
 * A cold container's first use of an access token makes two store round trips in a row: the key
 * registry (to verify the signature), then the tenant (deny list and standing). While the key
 * ring has never loaded, this starts the tenant read the token names alongside the registry read.
 *
 * The claim is unverified, so the read only fills the directory's cache with what any request for
 * that tenant would read (threat model I1): nothing is judged on it until the signature has
 * verified and named the same tenant, and a token naming another tenant reads its own. Only while
 * cold, so a stream of forged tokens costs no store reads in a warm container; the cold window is
 * one request in Lambda and the first concurrent requests of a local run.
 */
export function prefetchTenant(deps: { keyRing: KeyRing; directory: TenantDirectory }, token: string): void {
  if (!deps.keyRing.cold) return;
  const tenant = claimedTenant(token);
  // Failures are not this request's to report: the verified read that follows meets them itself.
  if (tenant !== undefined) deps.directory.get(tenant).catch(() => undefined);
}

/** The `tenant_id` an access token claims, if it is a well-formed tenant id; never trusted. */
function claimedTenant(token: string): string | undefined {
  const tenant = unverifiedClaims(token, MAX_TOKEN_BYTES)?.tenant_id;
  return typeof tenant === 'string' && TENANT_ID.test(tenant) ? tenant : undefined;
}

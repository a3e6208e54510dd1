import type { Clock } from '../clock.ts';
import { Forbidden, InvalidBearerToken, SubjectTokenInvalid } from '../errors.ts';
import type { KeyRing } from '../keys/keyring.ts';
import type { RevocationStore } from '../revocation/ports.ts';
import type { TenantDirectory } from '../directory/directory.ts';
import { verifyAccessToken, type VerifiedAccessToken } from '../tokens/access-token.ts';
import type { Scope } from '../tenants/tenant.ts';
import { standing } from './standing.ts';
import { prefetchTenant } from './tenant-prefetch.ts';

export interface BearerDeps {
  issuer: string;
  keyRing: KeyRing;
  clock: Clock;
  directory: TenantDirectory;
  revocations: RevocationStore;
}

/**
 * Authenticates an API call (RFC 6750): a valid, unrevoked fedbroker access token that still
 * stands under its relationship's current content (see `standing.ts`: tenant active,
 * relationship enabled and of the token's generation, scopes cut to today's), carrying `scope`.
 * Missing, invalid, revoked or no longer standing → 401, checked before the scope, so a dead
 * token is never told what it lacks; standing but without the scope → 403.
 */
export async function authenticate(deps: BearerDeps, authorization: string | undefined, scope: Scope): Promise<VerifiedAccessToken> {
  const m = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(authorization ?? '');
  if (!m?.[1]) throw new InvalidBearerToken('a Bearer access token is required');
  let principal: VerifiedAccessToken;
  prefetchTenant(deps, m[1]);
  try {
    principal = (await standing(deps, await verifyAccessToken(m[1], deps))).principal;
  } catch (e) {
    if (e instanceof SubjectTokenInvalid)
      throw new InvalidBearerToken(e.reason === 'expired' ? 'the access token has expired' : 'the access token is not valid');
    throw e;
  }
  if (!principal.scopes.includes(scope)) throw new Forbidden(`this call needs the ${scope} scope`);
  return principal;
}

/** {@link authenticate}, for a call on `tenant`'s resources: another tenant's token is 403, never served. */
export async function authorize(
  deps: BearerDeps,
  authorization: string | undefined,
  tenant: string,
  scope: Scope,
): Promise<VerifiedAccessToken> {
  const principal = await authenticate(deps, authorization, scope);
  if (principal.tenant !== tenant) throw new Forbidden('the access token belongs to another tenant');
  return principal;
}

import type { Clock } from '../clock.ts';
import { Forbidden, InvalidBearerToken, SubjectTokenInvalid } from '../errors.ts';
import type { KeyRing } from '../keys/keyring.ts';
import type { TenantDirectory } from '../tenants/directory.ts';
import { verifyAccessToken } from '../tokens/access-token.ts';
import type { Principal } from '../tokens/types.ts';
import type { Scope } from '../trust/schema.ts';

export interface BearerDeps {
  issuer: string;
  keyRing: KeyRing;
  clock: Clock;
  directory: TenantDirectory;
}

/**
 * Authorises an API call (RFC 6750): a fedbroker access token of `tenant` carrying `scope`.
 * A missing or invalid token is 401; a valid token of another tenant, or without the scope, is
 * 403 — the same tenant only, never across tenants. Kill switches apply: a disabled tenant or
 * relationship makes its tokens unusable within the directory's cache bound.
 */
export async function authorize(deps: BearerDeps, authorization: string | undefined, tenant: string, scope: Scope): Promise<Principal> {
  const m = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(authorization ?? '');
  if (!m?.[1]) throw new InvalidBearerToken('a Bearer access token is required');
  let principal: Principal;
  try {
    principal = await verifyAccessToken(m[1], deps);
  } catch (e) {
    if (e instanceof SubjectTokenInvalid) throw new InvalidBearerToken(e.message);
    throw e;
  }
  if (principal.tenant !== tenant) throw new Forbidden('the access token belongs to another tenant');
  if (!principal.scopes.includes(scope)) throw new Forbidden(`this call needs the ${scope} scope`);
  const view = await deps.directory.get(tenant);
  if (!view.tenant || view.tenant.status !== 'active' || !view.trusts.some((t) => t.relationship.id === principal.trust)) {
    throw new InvalidBearerToken('the access token is no longer valid');
  }
  return principal;
}

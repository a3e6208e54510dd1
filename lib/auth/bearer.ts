import type { Clock } from '../clock.ts';
import { Forbidden, InvalidBearerToken, SubjectTokenInvalid } from '../errors.ts';
import type { KeyRing } from '../keys/keyring.ts';
import type { RevocationStore } from '../revocation/ports.ts';
import type { TenantDirectory } from '../tenants/directory.ts';
import { verifyAccessToken, type VerifiedAccessToken } from '../tokens/access-token.ts';
import type { Scope } from '../trust/schema.ts';

export interface BearerDeps {
  issuer: string;
  keyRing: KeyRing;
  clock: Clock;
  directory: TenantDirectory;
  revocations: RevocationStore;
}

/**
 * Authenticates an API call (RFC 6750): a valid fedbroker access token carrying `scope`, whose
 * tenant is still active, whose trust relationship is still enabled and which has not been revoked
 * (kill switches and revocations apply within the directory's cache bound). Missing, invalid or
 * revoked → 401; valid but without the scope → 403.
 */
export async function authenticate(deps: BearerDeps, authorization: string | undefined, scope: Scope): Promise<VerifiedAccessToken> {
  const m = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(authorization ?? '');
  if (!m?.[1]) throw new InvalidBearerToken('a Bearer access token is required');
  let principal: VerifiedAccessToken;
  try {
    principal = await verifyAccessToken(m[1], deps);
  } catch (e) {
    if (e instanceof SubjectTokenInvalid) throw new InvalidBearerToken(e.message);
    throw e;
  }
  if (!principal.scopes.includes(scope)) throw new Forbidden(`this call needs the ${scope} scope`);
  const view = await deps.directory.get(principal.tenant);
  if (!view.tenant || view.tenant.status !== 'active' || !view.trusts.some((t) => t.relationship.id === principal.trust)) {
    throw new InvalidBearerToken('the access token is no longer valid');
  }
  return principal;
}

/** {@link authenticate}, for a call on `tenant`'s resources: another tenant's token is 403, never served. */
export async function authorize(deps: BearerDeps, authorization: string | undefined, tenant: string, scope: Scope): Promise<VerifiedAccessToken> {
  const principal = await authenticate(deps, authorization, scope);
  if (principal.tenant !== tenant) throw new Forbidden('the access token belongs to another tenant');
  return principal;
}

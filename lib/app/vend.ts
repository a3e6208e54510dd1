import { epochSeconds, type Clock } from '../clock.ts';
import { AccessDenied, InvalidRequest } from '../errors.ts';
import type { TenantDirectory } from '../directory/directory.ts';
import type { Principal } from '../tokens/types.ts';
import type { CognitoIdentityPort } from '../cognito/ports.ts';
import { poolAllowance } from './ownership.ts';
import { TENANT_TAG } from '../trust/session-tags.ts';
import { IDENTITY_POOL_ID, poolRegion } from '../cognito/pool.ts';

export interface VendDeps {
  directory: TenantDirectory;
  cognito: CognitoIdentityPort;
  /** Developer provider name used when a pool does not name its own. */
  developerProvider: string;
  clock: Clock;
}

/** Cognito's default TokenDuration (15 min), used when the caller asks for none. */
const DEFAULT_DURATION = 900;

/**
 * fedbroker as the developer provider of a tenant's identity pool: calls
 * `GetOpenIdTokenForDeveloperIdentity` with `Logins: { <provider>: "<tenant>/<principal>" }`
 * (the principal's `sub`), a TokenDuration capped by the pool's configuration, and the principal's
 * session tags as PrincipalTags where the pool asks for them.
 */
export async function vendCognitoToken(deps: VendDeps, principal: Principal & { standsUntil?: number }, body: Record<string, unknown>) {
  const poolId = body.identity_pool_id;
  if (typeof poolId !== 'string' || !IDENTITY_POOL_ID.test(poolId)) throw new InvalidRequest('identity_pool_id must be <region>:<guid>');
  const requested = body.duration_seconds;
  if (requested !== undefined && (typeof requested !== 'number' || !Number.isInteger(requested) || requested < 60)) {
    throw new InvalidRequest('duration_seconds must be a whole number of seconds, at least 60');
  }
  const view = await deps.directory.get(principal.tenant);
  const pool = view.pools.find((p) => p.identity_pool_id === poolId);
  // Still allowed by the operator (within the tenant cache bound of a withdrawal): same answer as
  // an unconfigured pool, so a refusal never says whether another tenant holds it.
  if (!pool || !view.tenant || poolAllowance(view.tenant, pool))
    throw new AccessDenied(`identity pool ${poolId} is not configured for this tenant`);
  if (requested !== undefined && requested > pool.max_duration_seconds) {
    throw new InvalidRequest(`duration_seconds exceeds the maximum of ${pool.max_duration_seconds} for this identity pool`);
  }
  const asked = requested ?? Math.min(DEFAULT_DURATION, pool.max_duration_seconds);
  // Clamped to the caller's standing (iat + its relationship's current max_duration_seconds): a
  // vended identity never outlives the grant it came from.
  const duration =
    principal.standsUntil === undefined ? asked : Math.max(1, Math.min(asked, principal.standsUntil - epochSeconds(deps.clock)));
  // The tenant tag always, last, so no mapped tag can stand in for it (reserved prefix, session-tags.ts).
  const tags = {
    ...(pool.principal_tags && principal.tags
      ? Object.fromEntries(Object.entries(principal.tags.principal_tags).map(([k, [v]]) => [k, v]))
      : {}),
    [TENANT_TAG]: principal.tenant,
  };
  const { identityId, token } = await deps.cognito.getOpenIdTokenForDeveloperIdentity({
    region: poolRegion(poolId),
    identityPoolId: poolId,
    developerProvider: pool.developer_provider ?? deps.developerProvider,
    developerUserId: principal.sub,
    tokenDurationSeconds: duration,
    principalTags: tags,
    ...(pool.role_arn ? { roleArn: pool.role_arn } : {}),
    tenant: principal.tenant,
  });
  return { identity_id: identityId, token, expires_in: duration };
}

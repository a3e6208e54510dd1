import { AccessDenied, InvalidRequest } from '../errors.ts';
import type { TenantDirectory } from '../tenants/directory.ts';
import type { Principal } from '../tokens/types.ts';
import type { CognitoIdentityPort } from './ports.ts';
import { IDENTITY_POOL_ID, poolRegion } from './schema.ts';

export interface VendDeps {
  directory: TenantDirectory;
  cognito: CognitoIdentityPort;
  /** Developer provider name used when a pool does not name its own. */
  developerProvider: string;
}

/** Cognito's default TokenDuration (15 min), used when the caller asks for none. */
const DEFAULT_DURATION = 900;

/**
 * fedbroker as the developer provider of a tenant's identity pool: calls
 * `GetOpenIdTokenForDeveloperIdentity` with `Logins: { <provider>: "<tenant>/<principal>" }`
 * (the principal's `sub`), a TokenDuration capped by the pool's configuration, and the principal's
 * session tags as PrincipalTags where the pool asks for them.
 */
export async function vendCognitoToken(deps: VendDeps, principal: Principal, body: Record<string, unknown>) {
  const poolId = body.identity_pool_id;
  if (typeof poolId !== 'string' || !IDENTITY_POOL_ID.test(poolId)) throw new InvalidRequest('identity_pool_id must be <region>:<guid>');
  const requested = body.duration_seconds;
  if (requested !== undefined && (typeof requested !== 'number' || !Number.isInteger(requested) || requested < 60)) {
    throw new InvalidRequest('duration_seconds must be a whole number of seconds, at least 60');
  }
  const pool = (await deps.directory.get(principal.tenant)).pools.find((p) => p.identity_pool_id === poolId);
  if (!pool) throw new AccessDenied(`identity pool ${poolId} is not configured for this tenant`);
  if (requested !== undefined && requested > pool.max_duration_seconds) {
    throw new InvalidRequest(`duration_seconds exceeds the maximum of ${pool.max_duration_seconds} for this identity pool`);
  }
  const duration = requested ?? Math.min(DEFAULT_DURATION, pool.max_duration_seconds);
  const tags = pool.principal_tags && principal.tags ? Object.fromEntries(Object.entries(principal.tags.principal_tags).map(([k, [v]]) => [k, v])) : undefined;
  const { identityId, token } = await deps.cognito.getOpenIdTokenForDeveloperIdentity({
    region: poolRegion(poolId),
    identityPoolId: poolId,
    developerProvider: pool.developer_provider ?? deps.developerProvider,
    developerUserId: principal.sub,
    tokenDurationSeconds: duration,
    principalTags: tags,
    ...(pool.role_arn ? { roleArn: pool.role_arn } : {}),
  });
  return { identity_id: identityId, token, expires_in: duration };
}

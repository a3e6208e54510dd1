import type { Clock } from '../clock.ts';
import { IDENTITY_POOL_ID, ROLE_ARN } from '../cognito/pool.ts';
import { ConflictError, InvalidRequest, NotFound } from '../errors.ts';
import { TENANT_ID, type Tenant } from '../tenants/tenant.ts';
import type { TrustStore } from '../directory/ports.ts';

/**
 * Who may use which shared AWS resource (threat model I2). An outbound Cognito identity pool, and
 * a role in another account that reaches one, are AWS resources that exist outside any tenant:
 * whoever names one first must not get to vend identities into it. fedbroker therefore binds
 * each to exactly one tenant by an **operator allow-list per tenant**, backed by a global claim
 * item written by conditional write (`CLAIM#POOL#<pool>`, `CLAIM#ROLE#<arn>`), so that no two
 * tenants can ever be allowed the same one. Why an allow-list and not a first-come claim: a
 * claim alone proves nothing about ownership (tenant A could claim tenant B's pool before B
 * does); the operator, who also lists the pools and roles in the function's IAM policy at deploy
 * time, is the one party who knows which tenant owns which pool. Roles are additionally assumed
 * with the tenant as `ExternalId` (IAM User Guide, "How to use an external ID"), so a role's own
 * trust policy names the one tenant it serves.
 */

/** Why `tenant` may not use this pool (and role), or undefined when it may. */
export function poolAllowance(tenant: Tenant, pool: { identity_pool_id: string; role_arn?: string | undefined }): string | undefined {
  if (!(tenant.allowed_identity_pools ?? []).includes(pool.identity_pool_id)) {
    return (
      `identity pool ${pool.identity_pool_id} is not allowed for tenant ${tenant.id}; an operator allows ` +
      `it with: fedbroker admin allow-identity-pool ${tenant.id} ${pool.identity_pool_id}`
    );
  }
  if (pool.role_arn !== undefined && !(tenant.allowed_role_arns ?? []).includes(pool.role_arn)) {
    return (
      `the role configured for identity pool ${pool.identity_pool_id} is not allowed for tenant ` +
      `${tenant.id}; an operator allows it with: fedbroker admin allow-identity-pool ${tenant.id} ` +
      `${pool.identity_pool_id} --role-arn <arn>`
    );
  }
  return undefined;
}

export interface OwnershipDeps {
  store: TrustStore;
  clock: Clock;
}

/**
 * Operator: allows `tenant` to use an identity pool (and the role that reaches it). Refused with
 * 409 when another tenant holds either: the claim is global and written only if free or already
 * this tenant's. Idempotent for the same tenant.
 */
export async function allowIdentityPool(deps: OwnershipDeps, tenant: string, poolId: string, roleArn?: string): Promise<void> {
  if (!TENANT_ID.test(tenant)) throw new InvalidRequest('tenant is not a valid tenant id');
  if (!IDENTITY_POOL_ID.test(poolId)) throw new InvalidRequest('identity pool must be <region>:<guid>');
  if (roleArn !== undefined && !ROLE_ARN.test(roleArn)) throw new InvalidRequest('role must be an IAM role ARN');
  if (!(await deps.store.readTenant(tenant)).tenant) throw new NotFound(`tenant ${tenant} does not exist`);
  const at = new Date(deps.clock.now()).toISOString();
  if (!(await deps.store.claim('POOL', poolId, tenant, at)))
    throw new ConflictError(`identity pool ${poolId} is already allowed for another tenant`);
  if (roleArn !== undefined && !(await deps.store.claim('ROLE', roleArn, tenant, at)))
    throw new ConflictError('that role is already allowed for another tenant');
  if (!(await deps.store.allow(tenant, { pools: [poolId], roles: roleArn === undefined ? [] : [roleArn] })))
    throw new NotFound(`tenant ${tenant} does not exist`);
}

/** Operator: withdraws a pool (or role) from `tenant` and frees its claim. Takes effect within the tenant cache bound. */
export async function disallow(deps: OwnershipDeps, tenant: string, kind: 'POOL' | 'ROLE', resource: string): Promise<void> {
  if (!TENANT_ID.test(tenant)) throw new InvalidRequest('tenant is not a valid tenant id');
  if (!(await deps.store.allow(tenant, kind === 'POOL' ? { pools: [resource], roles: [] } : { pools: [], roles: [resource] }, 'remove'))) {
    throw new NotFound(`tenant ${tenant} does not exist`);
  }
  await deps.store.release(kind, resource, tenant);
}

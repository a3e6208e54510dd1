import { Table } from '../../lib/aws/dynamo-table.ts';
import { DynamoTrustStore } from '../../lib/aws/dynamo-trust-store.ts';
import { systemClock } from '../../lib/clock.ts';
import { createTenant, identityPools, relationships, setTenantStatus, type AdminDeps } from '../../lib/app/documents.ts';
import { allowIdentityPool } from '../../lib/app/ownership.ts';
import type { Scope } from '../../lib/tenants/tenant.ts';
import type { TrustRelationshipInput } from '../../lib/trust/schema.ts';
import { validateRelationship } from '../../lib/trust/validate.ts';
import { randomBytes } from 'node:crypto';

/**
 * Writes tenants and their documents through the same admin code the API and CLI use. Runs as a
 * local-mode operator (http://127.0.0.1 issuers allowed) unless `local: false`.
 */
export function tenantAdmin(tableName: string, options: { local?: boolean; cognitoIssuer?: string } = {}) {
  const deps: AdminDeps = {
    store: new DynamoTrustStore(new Table(tableName)),
    clock: systemClock,
    local: options.local ?? true,
    cognitoIssuer: options.cognitoIssuer ?? 'https://cognito-identity.amazonaws.com',
  };
  return {
    store: deps.store,
    async tenant(id: string, docs: Partial<TrustRelationshipInput>[] = []) {
      await createTenant(deps, { id });
      for (const r of docs) await relationships.create(deps, id, r);
    },
    relationship: (tenant: string, r: Partial<TrustRelationshipInput>) => relationships.create(deps, tenant, r),
    /**
     * Stores a validated relationship straight into the store, past the admin API's cap read, as
     * concurrent creates can leave it; `generation: null` stores it as saved before generations
     * existed. Resolves false when the id is taken.
     */
    async stored(tenant: string, r: Partial<TrustRelationshipInput>, options: { enabled?: boolean; generation?: string | null } = {}) {
      const spec = await validateRelationship(
        { ...r, enabled: options.enabled ?? true },
        { local: deps.local, cognitoIssuer: deps.cognitoIssuer },
      );
      const generation = options.generation === undefined ? randomBytes(16).toString('base64url') : options.generation;
      const at = new Date().toISOString();
      const doc = { ...spec, tenant, version: 1, ...(generation === null ? {} : { generation }), created_at: at, updated_at: at };
      return deps.store.putDocument('TRUST', doc as never, undefined);
    },
    /** As the operator: allows `tenant` the pool (and the role reaching it), see lib/app/ownership.ts. */
    allowPool: (tenant: string, poolId: string, roleArn?: string) => allowIdentityPool(deps, tenant, poolId, roleArn),
    /** Allows the pool (as the operator), then adds it (as the tenant admin). */
    async pool(tenant: string, p: Record<string, unknown>) {
      await allowIdentityPool(deps, tenant, String(p.identity_pool_id), typeof p.role_arn === 'string' ? p.role_arn : undefined);
      return identityPools.create(deps, tenant, p);
    },
    disable: (tenant: string) => setTenantStatus(deps, tenant, 'disabled'),
    enable: (tenant: string) => setTenantStatus(deps, tenant, 'active'),
  };
}

/** A relationship admitting exactly one upstream `sub` of `issuer` (audience `fedbroker`) with `scopes`. */
export function subjectRelationship(issuer: string, id: string, sub: string, scopes: readonly Scope[]) {
  return { kind: 'oidc' as const, id, issuer, audiences: ['fedbroker'], conditions: { StringEquals: { sub } }, scopes: [...scopes] };
}

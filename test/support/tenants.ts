import { Table } from '../../lib/aws/dynamo-table.ts';
import { DynamoTrustStore } from '../../lib/aws/dynamo-trust-store.ts';
import { systemClock } from '../../lib/clock.ts';
import { createRelationship, createTenant, setTenantStatus } from '../../lib/tenants/admin.ts';
import type { TrustRelationshipInput } from '../../lib/trust/schema.ts';

/** Writes tenants and relationships through the same admin code the API and CLI use. */
export function tenantAdmin(tableName: string) {
  const deps = { store: new DynamoTrustStore(new Table(tableName)), clock: systemClock, local: true };
  return {
    store: deps.store,
    async tenant(id: string, relationships: Partial<TrustRelationshipInput>[] = []) {
      await createTenant(deps, { id });
      for (const r of relationships) await createRelationship(deps, id, r);
    },
    relationship: (tenant: string, r: Partial<TrustRelationshipInput>) => createRelationship(deps, tenant, r),
    disable: (tenant: string) => setTenantStatus(deps, tenant, 'disabled'),
    enable: (tenant: string) => setTenantStatus(deps, tenant, 'active'),
  };
}

import type { Tenant, TrustRelationship } from '../trust/schema.ts';

/**
 * Storage port for tenants and their trust relationships. A tenant and its relationships share
 * one partition, so the exchange path reads both with a single query. Every invariant is a
 * single-item conditional write (no transactions: dynalite has none).
 */
export interface TrustStore {
  /** The tenant item and all its relationships, in one read. */
  readTenant(tenant: string): Promise<{ tenant: Tenant | undefined; relationships: TrustRelationship[] }>;
  /** Resolves false when the tenant already exists. */
  createTenant(tenant: Tenant): Promise<boolean>;
  /** Resolves false when the tenant does not exist. */
  setTenantStatus(tenant: string, status: Tenant['status'], at: string): Promise<boolean>;
  getRelationship(tenant: string, id: string): Promise<TrustRelationship | undefined>;
  /** Resolves false when a relationship with that id exists. */
  createRelationship(relationship: TrustRelationship): Promise<boolean>;
  /** Writes `relationship` (version already incremented) if the stored version is `expectedVersion`. */
  replaceRelationship(relationship: TrustRelationship, expectedVersion: number): Promise<boolean>;
  /** Deletes if the stored version is `expectedVersion`. */
  deleteRelationship(tenant: string, id: string, expectedVersion: number): Promise<boolean>;
}

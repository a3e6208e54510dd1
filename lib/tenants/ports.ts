import type { CognitoPool } from '../cognito/schema.ts';
import type { Revocation } from '../revocation/ports.ts';
import type { Tenant, TrustRelationship } from '../trust/schema.ts';

/** Kinds of versioned documents a tenant owns, by their sort-key prefix. */
export type DocumentPrefix = 'TRUST' | 'POOL';

/** Server-managed fields every tenant document carries. */
export interface StoredDocument {
  id: string;
  tenant: string;
  version: number;
  created_at: string;
  updated_at: string;
}

export interface TenantRecord {
  tenant: Tenant | undefined;
  relationships: TrustRelationship[];
  pools: CognitoPool[];
  /** The tenant's access-token deny list, expired entries included (TTL deletion is late). */
  revocations: Revocation[];
}

/**
 * Storage port for tenants and their documents (trust relationships, outbound identity pools)
 * and deny-list entries. A tenant and all of these share one partition, so the exchange path
 * reads all of them with a single query. Every invariant is a single-item conditional write (dynalite has no transactions).
 */
export interface TrustStore {
  /** The tenant item, all its documents and its deny-list entries, in one read. */
  readTenant(tenant: string): Promise<TenantRecord>;
  /** Resolves false when the tenant already exists. */
  createTenant(tenant: Tenant): Promise<boolean>;
  /** Resolves false when the tenant does not exist. */
  setTenantStatus(tenant: string, status: Tenant['status'], at: string): Promise<boolean>;
  getDocument<T extends StoredDocument>(tenant: string, prefix: DocumentPrefix, id: string): Promise<T | undefined>;
  /**
   * Writes a document if the stored version is `expectedVersion`, or, with `undefined`, only if
   * none exists. Resolves false when that condition does not hold (another writer won).
   */
  putDocument(prefix: DocumentPrefix, document: StoredDocument, expectedVersion: number | undefined): Promise<boolean>;
  /** Deletes if the stored version is `expectedVersion`. */
  deleteDocument(tenant: string, prefix: DocumentPrefix, id: string, expectedVersion: number): Promise<boolean>;
}

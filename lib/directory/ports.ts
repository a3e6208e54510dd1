import type { CognitoPool } from '../cognito/schema.ts';
import type { Revocation } from '../revocation/ports.ts';
import type { Tenant } from '../tenants/tenant.ts';
import type { TrustRelationship } from '../trust/schema.ts';
import type { TrustAnchor } from '../x509/anchor.ts';

/** Kinds of versioned documents a tenant owns, by their sort-key prefix. */
export type DocumentPrefix = 'TRUST' | 'POOL' | 'ANCHOR';

/** Server-managed fields every tenant document carries. */
export interface StoredDocument {
  id: string;
  tenant: string;
  /** Increases on every write and never repeats for an id, across delete and recreate (tombstones). */
  version: number;
  /**
   * What access tokens are bound to: a random value set on create and replaced whenever what
   * admits a token changes (a relationship's issuer, audiences, conditions, subject template or
   * session tags). Never repeats, so a token of a deleted or rewritten relationship can never be
   * revived by a document that merely reuses its id.
   */
  generation: string;
  created_at: string;
  updated_at: string;
}

export interface TenantRecord {
  tenant: Tenant | undefined;
  relationships: TrustRelationship[];
  pools: CognitoPool[];
  /** X.509 trust anchors (lib/x509/anchor.ts); absent from stores that predate them. */
  anchors?: TrustAnchor[];
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
  /** Deletes if the stored version is `expectedVersion`. The id's version counter survives it. */
  deleteDocument(tenant: string, prefix: DocumentPrefix, id: string, expectedVersion: number): Promise<boolean>;
  /**
   * The next version for a document id, from an atomic per-id counter that outlives the document:
   * never the same number twice for an id, across delete and recreate and under concurrent
   * writers. `floor` is the current version of a document written before the counter existed.
   */
  nextVersion(tenant: string, prefix: DocumentPrefix, id: string, floor: number): Promise<number>;
  /** Starts the id's counter at `version` unless it already exists (a document written before counters). */
  seedVersion(tenant: string, prefix: DocumentPrefix, id: string, version: number): Promise<void>;
  /** Claims a shared AWS resource for `tenant`; false when another tenant holds it (see ownership.ts). */
  claim(kind: 'POOL' | 'ROLE', resource: string, tenant: string, at: string): Promise<boolean>;
  /** Frees the claim if `tenant` holds it. */
  release(kind: 'POOL' | 'ROLE', resource: string, tenant: string): Promise<void>;
  /** Adds (or removes) pools and roles to the tenant's allow-lists; false when the tenant does not exist. */
  allow(tenant: string, resources: { pools: string[]; roles: string[] }, mode?: 'add' | 'remove'): Promise<boolean>;
}

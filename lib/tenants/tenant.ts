/**
 * A tenant: the unit that owns trust relationships, identity pools and revocations, and the
 * scopes its tokens may carry. Declared once here; the admin API, the CLI and the trust
 * relationship schema (`trust/schema.ts`) import it. The tenant document's schema is
 * `tenant-schema.ts`, apart, so the functions that only read tenants do not bundle zod.
 */

export const TENANT_ID = /^[a-z0-9][a-z0-9-]{2,62}$/;

/** Scopes a relationship may grant. Unknown scopes are refused, never ignored. */
export const SCOPES = ['id-token:issue', 'trust:admin', 'aws:cognito', 'audit:read'] as const;
export type Scope = (typeof SCOPES)[number];

/**
 * Most trust relationships a tenant may hold. Every warm container reads and compiles all of a
 * tenant's relationships, and an exchange may evaluate every one of them, so this caps the
 * per-request evaluation cost (threat model I3) as well as the size of the tenant's read.
 */
export const MAX_RELATIONSHIPS = 100;
/** Most outbound identity pools a tenant may hold. */
export const MAX_IDENTITY_POOLS = 50;

export const TENANT_STATUSES = ['active', 'disabled'] as const;

export interface Tenant {
  id: string;
  name: string;
  status: (typeof TENANT_STATUSES)[number];
  version: number;
  created_at: string;
  updated_at: string;
  /** Outbound Cognito identity pools the operator allowed this tenant (and no other, see `CLAIM#` items). */
  allowed_identity_pools?: string[];
  /** Roles in other accounts the operator allowed this tenant's pools to be reached through. */
  allowed_role_arns?: string[];
}

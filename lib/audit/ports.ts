/** What happened. Names are stable: operators filter and alert on them. */
export const AUDIT_EVENTS = [
  'token.exchange',
  'id_token.issue',
  'cognito_token.issue',
  'token.revoke',
  'trust_relationship.create',
  'trust_relationship.replace',
  'trust_relationship.delete',
  'identity_pool.create',
  'identity_pool.replace',
  'identity_pool.delete',
  'trust_anchor.create',
  'trust_anchor.replace',
  'trust_anchor.delete',
  'x509.session',
  'tenant.create',
  'tenant.disable',
  'tenant.enable',
  'tenant.allow_resource',
  'tenant.disallow_resource',
  'key.state_change',
] as const;
type AuditEvent = (typeof AUDIT_EVENTS)[number];

/** `success`: granted / applied; `refused`: a 4xx refusal; `error`: a dependency failed (5xx). */
export const AUDIT_OUTCOMES = ['success', 'refused', 'error'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

/**
 * One audit record. It describes a token (who, for whom, its `jti`), never contains one.
 * `principal`, `trust`, `source_issuer` and `source_subject` come only from a verified token; what
 * an unverified token claimed (a refused exchange's subject token) goes under `claimed_*`, capped
 * and scrubbed, so nobody can put words in a tenant's trail by presenting a forged token.
 */
export interface AuditRecord {
  /** ISO 8601, UTC, milliseconds. */
  time: string;
  event: AuditEvent;
  outcome: AuditOutcome;
  /** Refusal reason: `SubjectTokenInvalid.reason` (e.g. `expired`) or the error `code`. */
  reason?: string;
  /**
   * `_system` for deployment-wide events (keys); `_unknown` when a refusal names no tenant but in
   * an unverified token (see `claimed_tenant`).
   */
  tenant: string;
  /** Trust relationship that admitted the principal (or of the acting admin). Verified only. */
  trust?: string;
  /** The principal's `sub` (the acting admin's, for admin changes; the actor, for key events). Verified only. */
  principal?: string;
  /** `iss` and `sub` of the presented subject token, once verified. */
  source_issuer?: string;
  source_subject?: string;
  /** Unverified: a refused fedbroker access token's `tenant_id`, `sub` and `trust` claims. */
  claimed_tenant?: string;
  claimed_principal?: string;
  claimed_trust?: string;
  /** Unverified: a refused subject token's `iss` and `sub` claims. */
  claimed_issuer?: string;
  claimed_subject?: string;
  audience?: string;
  scopes?: string[];
  /** `jti` of the token issued; for admin changes, of the bearer token the admin used. */
  jti?: string;
  /** What an admin change acted on: a document id, a revoked `jti`, a key id. */
  target?: string;
  request_id?: string;
  source_ip?: string;
  /** Small event-specific facts (document version, key states, …). */
  detail?: Record<string, string | number | boolean>;
}

/**
 * One record as written: the record, its id (`<ISO time>#<12 hex>`: unique, sorts by time) and
 * the epoch second its table copy expires (DynamoDB TTL). The id makes the table copy idempotent:
 * a log line delivered twice lands on the same item.
 */
export type AuditEntry = AuditRecord & { id: string; expires_at: number };

/**
 * Where the trail writes (adapter: one JSON log line per entry, see `lib/audit/sinks.ts`).
 * Throws when the entry could not be written; the trail decides whether that refuses the request.
 */
export interface AuditSink {
  write(entry: AuditEntry): void | Promise<void>;
}

/** The table copy of the trail: entries written in batches, idempotently by id. */
export interface AuditTableWriter {
  /** Writes every entry or rejects (then none, some or all may have been written: retry the batch). */
  putAll(entries: readonly AuditEntry[]): Promise<void>;
}

export interface AuditQuery {
  /** Inclusive lower and exclusive upper bound, ISO 8601. */
  since: string;
  until: string;
  /** Only records whose verified `principal` is this; a refusal's `claimed_principal` never matches. */
  principal?: string;
  limit: number;
  /** Resume strictly after this record id (from a previous page). */
  after?: string;
}

/** A stored record with its id (unique, ordered by time). */
export type StoredAuditRecord = AuditRecord & { id: string };

/** Read port of the audit trail, for the tenant's audit API. */
export interface AuditReader {
  /** Records of `tenant` in time order; `last` is set when there may be more after it. */
  query(tenant: string, query: AuditQuery): Promise<{ items: StoredAuditRecord[]; last?: string }>;
}

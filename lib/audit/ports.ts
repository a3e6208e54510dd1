/** What happened. Names are stable: operators filter and alert on them. */
export type AuditEvent =
  | 'token.exchange'
  | 'id_token.issue'
  | 'cognito_token.issue'
  | 'token.revoke'
  | 'trust_relationship.create'
  | 'trust_relationship.replace'
  | 'trust_relationship.delete'
  | 'identity_pool.create'
  | 'identity_pool.replace'
  | 'identity_pool.delete'
  | 'tenant.create'
  | 'tenant.disable'
  | 'tenant.enable'
  | 'key.state_change';

/** `success`: granted / applied; `refused`: a 4xx refusal; `error`: a dependency failed (5xx). */
export type AuditOutcome = 'success' | 'refused' | 'error';

/**
 * One audit record. It describes a token (who, for whom, its `jti`), never contains one. On
 * refusals the subject fields are what the request claimed (unverified), capped and scrubbed.
 */
export interface AuditRecord {
  /** ISO 8601, UTC, milliseconds. */
  time: string;
  event: AuditEvent;
  outcome: AuditOutcome;
  /** Refusal reason: `SubjectTokenInvalid.reason` (e.g. `expired`) or the error `code`. */
  reason?: string;
  /** `_system` for deployment-wide events (keys); `_unknown` when a refusal names no tenant. */
  tenant: string;
  /** Trust relationship that admitted the principal (or of the acting admin). */
  trust?: string;
  /** The principal's `sub` (the acting admin's, for admin changes; the actor, for key events). */
  principal?: string;
  /** `iss` and `sub` of the presented subject token. */
  source_issuer?: string;
  source_subject?: string;
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

/** Storage port of the audit trail (adapter: a log line plus a table item). */
export interface AuditSink {
  /** Stores one record until `expiresAt` (epoch seconds). Rejects when it could not be stored. */
  write(record: AuditRecord, expiresAt: number): Promise<void>;
}

export interface AuditQuery {
  /** Inclusive lower and exclusive upper bound, ISO 8601. */
  since: string;
  until: string;
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

import type { Documents } from '../app/documents.ts';
import type { ExchangeOutcome } from '../app/exchange.ts';
import { exchangeGrantRecord, exchangeRefusalFields, failureOf, type ExchangeAuditDeps, type RequestInfo } from '../app/record-exchange.ts';
import type { RevokeResult } from '../app/revoke.ts';
import { certificateFailure, certificateGrantRecord, certificateRefusalRecord } from '../app/x509-audit.ts';
import type { X509Outcome } from '../app/x509.ts';
import type { AuditInput, AuditTrail } from '../audit/trail.ts';
import { audienceDimension, countExchange, countTokenIssued } from '../metrics.ts';
import { TENANT_ID } from '../tenants/tenant.ts';
import { TOKEN_TYPE } from '../tokens/types.ts';
import type { Caller } from './scope.ts';

/** How one kind of operation is audited: which write mode, and what its records say. */
export interface AuditedOperation<T> {
  /**
   * `grant`: what the operation produced (a token) is handed out only once its record is stored;
   * otherwise the call fails with 503 ({@link AuditTrail.record}, fail-closed). `applied`: the
   * operation has taken effect whatever happens next, so its record is best effort
   * ({@link AuditTrail.recordApplied}).
   */
  kind: 'grant' | 'applied';
  /** The record of a success. */
  success(result: T): AuditInput;
  /**
   * The record of a failure, for operations anyone holding a token can repeat at will: written
   * best effort and bounded per tenant and source ({@link AuditTrail.recordRefusal}). Omitted, a
   * failure leaves no record (admin changes: a refused change changed nothing).
   */
  failure?(error: unknown): AuditInput | Promise<AuditInput>;
  /** After the success record is stored: the metrics of what is handed out. */
  recorded?(result: T): void;
  /** A grant whose record could not be stored (nothing is handed out). */
  unrecorded?(): void;
}

/**
 * The one way an operation is audited: runs it and writes its one record, success or failure, as
 * `op` says. A failure is rethrown unchanged, after its record if it has one.
 */
export async function audited<T extends R, R>(trail: AuditTrail, op: AuditedOperation<R>, run: () => Promise<T>): Promise<T> {
  let result: T;
  try {
    result = await run();
  } catch (e) {
    if (op.failure) await trail.recordRefusal(await op.failure(e));
    throw e;
  }
  if (op.kind === 'applied') await trail.recordApplied(op.success(result));
  else
    await trail.record(op.success(result)).catch((e: unknown) => {
      op.unrecorded?.();
      throw e;
    });
  op.recorded?.(result);
  return result;
}

/**
 * Runs one token exchange and writes its one audit record and metrics, keeping the exchange
 * itself free of both. A refusal is recorded and rethrown unchanged; a grant is recorded
 * fail-closed: when it cannot be, the token is dropped and the caller gets 503. `parse` runs
 * inside, so a malformed request is an audited refusal too.
 */
export function auditedExchange(
  deps: ExchangeAuditDeps,
  request: RequestInfo,
  parse: () => Record<string, string>,
  exchange: (params: Record<string, string>) => Promise<ExchangeOutcome>,
): Promise<ExchangeOutcome> {
  let params: Record<string, string> = {};
  const idToken = (outcome: ExchangeOutcome) => outcome.response.issued_token_type === TOKEN_TYPE.idToken;
  const op: AuditedOperation<ExchangeOutcome> = {
    kind: 'grant',
    failure: async (e) => {
      const failure = failureOf(e);
      countExchange(failure.outcome, failure.reason);
      const event = params.requested_token_type === TOKEN_TYPE.idToken ? 'id_token.issue' : 'token.exchange';
      // Looked up for refusals only: a dependency failure (5xx) keeps the named tenant without another
      // read of the store that just failed.
      const named = params.tenant !== undefined && TENANT_ID.test(params.tenant);
      const exists = named && (failure.outcome === 'error' || (await deps.tenantExists(params.tenant as string).catch(() => false)));
      return { event, ...failure, ...exchangeRefusalFields(params, e, exists), ...request };
    },
    success: (outcome) => exchangeGrantRecord(outcome, params, deps.issuer, request),
    unrecorded: () => countExchange('error', 'audit_unavailable'),
    recorded: (outcome) => {
      countExchange('success', undefined);
      const audience = idToken(outcome) ? params.audience : deps.issuer;
      countTokenIssued(idToken(outcome) ? 'id_token' : 'access_token', audienceDimension(audience, deps.issuer));
    },
  };
  return audited(deps.audit, op, async () => {
    params = parse();
    return exchange(params);
  });
}

/** A Cognito token vended for the caller: a grant, and refusals are recorded like the exchange's. */
export function vendAudit(caller: Caller, body: Record<string, unknown>): AuditedOperation<{ identity_id: string }> {
  const record = {
    event: 'cognito_token.issue' as const,
    tenant: caller.tenant,
    trust: caller.token.trust,
    principal: caller.token.sub,
    audience: typeof body.identity_pool_id === 'string' ? body.identity_pool_id : undefined,
    detail: { source_jti: caller.token.jti },
    ...caller.request,
  };
  return {
    // Fail-closed like the exchange: a token whose issue cannot be audited is not handed out.
    kind: 'grant',
    success: (vended) => ({ ...record, outcome: 'success', detail: { ...record.detail, identity_id: vended.identity_id } }),
    // Bounded per tenant and source like the exchange's refusals: a caller can repeat this at will.
    failure: (e) => ({ ...record, ...failureOf(e) }),
    recorded: () => countTokenIssued('cognito', 'cognito-identity.amazonaws.com'),
  };
}

/** A revocation: applied already (and idempotent), so audited best effort. */
export function revocationAudit(caller: Caller): AuditedOperation<RevokeResult> {
  return {
    kind: 'applied',
    success: (result) => ({
      event: 'token.revoke',
      outcome: 'success',
      tenant: caller.tenant,
      trust: caller.token.trust,
      principal: caller.token.sub,
      jti: caller.token.jti,
      target: result.jti,
      ...caller.request,
      ...(result.reason ? { reason: result.reason } : {}),
      detail: { revoked: result.revoked, ...(result.expires_at !== undefined ? { expires_at: result.expires_at } : {}) },
    }),
  };
}

/**
 * A change of a tenant document: who made it (with which token) and from where, and the
 * document's id and version. Applied once written, so audited best effort.
 */
export function documentChangeAudit(
  docs: Documents,
  action: 'create' | 'replace' | 'delete',
  caller: Caller,
): AuditedOperation<{ id: string; version: number }> {
  return {
    kind: 'applied',
    success: ({ id, version }) => ({
      event: `${docs.label.replaceAll(' ', '_') as 'trust_relationship' | 'identity_pool' | 'trust_anchor'}.${action}`,
      outcome: 'success',
      tenant: caller.tenant,
      trust: caller.token.trust,
      principal: caller.token.sub,
      jti: caller.token.jti,
      target: id,
      ...caller.request,
      detail: { version },
    }),
  };
}

/**
 * A certificate session (docs/x509.md): a grant like the exchange's (fail-closed), and refusals
 * recorded like the exchange's, bounded per tenant and source, with the reason and what the
 * certificate presented.
 */
export function certificateSessionAudit(deps: ExchangeAuditDeps, tenant: string, request: RequestInfo): AuditedOperation<X509Outcome> {
  return {
    kind: 'grant',
    failure: async (e) => {
      const failure = certificateFailure(e);
      countExchange(failure.outcome, failure.reason);
      const exists = TENANT_ID.test(tenant) && (await deps.tenantExists(tenant).catch(() => false));
      return certificateRefusalRecord(e, failure, tenant, exists, request);
    },
    success: (outcome) => certificateGrantRecord(outcome, deps.issuer, request),
    unrecorded: () => countExchange('error', 'audit_unavailable'),
    recorded: () => {
      countExchange('success', undefined);
      countTokenIssued('access_token', 'fedbroker');
    },
  };
}

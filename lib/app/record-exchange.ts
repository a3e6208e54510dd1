import { FedbrokerError, SubjectTokenInvalid } from '../errors.ts';
import { unverifiedClaims } from '../jws.ts';
import { MAX_TOKEN_BYTES } from '../limits.ts';
import { TOKEN_TYPE } from '../tokens/types.ts';
import { TENANT_ID } from '../tenants/tenant.ts';
import type { AuditOutcome, AuditRecord } from '../audit/ports.ts';
import type { ExchangeOutcome } from './exchange.ts';
import { UNKNOWN_TENANT, type AuditTrail } from '../audit/trail.ts';

/** Where a request came from, for the audit record. */
export interface RequestInfo {
  request_id?: string;
  source_ip?: string;
}

/** What auditing an exchange needs (lib/handlers/audit.ts), built once in the runtime. */
export interface ExchangeAuditDeps {
  audit: AuditTrail;
  issuer: string;
  /** Whether a tenant exists (the directory's cached read); a failure to tell counts as no. */
  tenantExists(tenant: string): Promise<boolean>;
}

/** How a failure is audited: 4xx are refusals, the rest errors; the reason is the most specific code. */
export function failureOf(e: unknown): { outcome: AuditOutcome; reason: string } {
  if (e instanceof SubjectTokenInvalid) return { outcome: 'refused', reason: e.reason };
  if (e instanceof FedbrokerError) return { outcome: e.status < 500 ? 'refused' : 'error', reason: e.code };
  return { outcome: 'error', reason: 'ERR_INTERNAL' };
}

/** Claims of a token that failed, read without trusting them: only to say what was presented. */
function claimed(token: string | undefined): Record<string, unknown> {
  // Read as the verifiers read a payload (lib/jws.ts): a token they could not parse claims nothing.
  return (token && unverifiedClaims(token, MAX_TOKEN_BYTES)) || {};
}

const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

/**
 * The record of a refused exchange. A refusal does not say whether the subject token had been
 * verified before it was refused (forged, expired, and genuine but asking for too much all end
 * here), so every value read from it is `claimed_*`, never `principal`/`trust`/`source_*`:
 * otherwise anyone could write a forged `sub` into a tenant's trail under `principal`, where the
 * tenant's `?principal=` filter would find it. The partition is the request's `tenant` parameter
 * (the caller chose that tenant, and its admins need to see refusals against it), else `_unknown`:
 * a forged access token's `tenant_id` names a tenant but proves nothing, so it only goes under
 * `claimed_tenant`.
 */
export function exchangeRefusalFields(
  params: Record<string, string>,
  error: unknown,
  tenantExists: boolean,
): Omit<AuditRecord, 'time' | 'event' | 'outcome'> {
  const claims = claimed(params.subject_token);
  const own = params.subject_token_type === TOKEN_TYPE.accessToken;
  // A fedbroker access token refused after its signature verified (revoked, no longer standing):
  // who it speaks for is verified, and the record belongs to its tenant.
  const verified = error instanceof SubjectTokenInvalid ? error.verified : undefined;
  if (verified) {
    return {
      tenant: verified.tenant,
      principal: verified.sub,
      trust: verified.trust,
      source_issuer: str(claims.iss),
      audience: params.audience,
      scopes: params.scope?.split(' ').filter(Boolean),
    };
  }
  // Filed in the named tenant only when it exists: made-up names get neither partitions nor
  // limiter buckets of their own, whatever refused the request.
  const named = params.tenant !== undefined && TENANT_ID.test(params.tenant) && tenantExists;
  return {
    tenant: named ? (params.tenant as string) : UNKNOWN_TENANT,
    ...(!named && params.tenant !== undefined ? { claimed_tenant: params.tenant } : {}),
    ...(own ? { claimed_tenant: str(claims.tenant_id), claimed_principal: str(claims.sub), claimed_trust: str(claims.trust) } : {}),
    claimed_issuer: str(claims.iss),
    claimed_subject: str(claims.sub),
    audience: params.audience,
    scopes: params.scope?.split(' ').filter(Boolean),
  };
}

/** The record of a granted exchange: the verified principal and source, the token's `jti`, never the token. */
export function exchangeGrantRecord(
  outcome: ExchangeOutcome,
  params: Record<string, string>,
  issuer: string,
  request: RequestInfo,
): Omit<AuditRecord, 'time'> {
  const { principal, source } = outcome;
  const idToken = outcome.response.issued_token_type === TOKEN_TYPE.idToken;
  return {
    event: idToken ? 'id_token.issue' : 'token.exchange',
    outcome: 'success',
    tenant: principal.tenant,
    trust: principal.trust,
    principal: principal.sub,
    source_issuer: source.issuer,
    source_subject: source.subject,
    audience: idToken ? params.audience : issuer,
    scopes: principal.scopes,
    jti: outcome.jti,
    ...request,
    ...(source.jti ? { detail: { source_jti: source.jti } } : {}),
  };
}

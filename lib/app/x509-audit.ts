import type { AuditOutcome } from '../audit/ports.ts';
import { type AuditInput, UNKNOWN_TENANT } from '../audit/trail.ts';
import { CertificateRefused, FedbrokerError } from '../errors.ts';
import type { RequestInfo } from './record-exchange.ts';
import type { X509Outcome } from './x509.ts';

/**
 * The audit records of certificate sessions (event `x509.session`), apart from lib/app/x509.ts so
 * that lib/handlers/audit.ts, which every function imports, never pulls in the X.509 code (pkijs).
 */

/** The audit failure of a certificate session: a `CertificateRefused` reason, else the error code. */
export function certificateFailure(e: unknown): { outcome: AuditOutcome; reason: string } {
  if (e instanceof CertificateRefused) return { outcome: 'refused', reason: e.reason };
  if (e instanceof FedbrokerError) return { outcome: e.status < 500 ? 'refused' : 'error', reason: e.code };
  return { outcome: 'error', reason: 'ERR_INTERNAL' };
}

/**
 * The record of a refused certificate session (event `x509.session`): the reason and, as
 * `claimed_*`/`detail`, what the certificate said about itself — unverified, since a refusal cannot
 * tell which of its facts had verified. Filed under the tenant only when it exists.
 */
export function certificateRefusalRecord(
  e: unknown,
  failure: { outcome: AuditOutcome; reason: string },
  tenant: string,
  exists: boolean,
  request: RequestInfo,
): AuditInput {
  const cert = e instanceof CertificateRefused ? e.certificate : undefined;
  const detail = { ...(cert?.serial ? { serial: cert.serial } : {}), ...(cert?.anchor ? { anchor: cert.anchor } : {}) };
  return {
    event: 'x509.session',
    ...failure,
    tenant: exists ? tenant : UNKNOWN_TENANT,
    ...(exists ? {} : { claimed_tenant: tenant }),
    claimed_subject: cert?.subject,
    claimed_issuer: cert?.issuer,
    ...(Object.keys(detail).length ? { detail } : {}),
    ...request,
  };
}

/** The record of a granted certificate session: verified principal, subject and issuer DNs, anchor and serial. */
export function certificateGrantRecord(outcome: X509Outcome, issuer: string, request: RequestInfo): AuditInput {
  return {
    event: 'x509.session',
    outcome: 'success',
    tenant: outcome.principal.tenant,
    trust: outcome.principal.trust,
    principal: outcome.principal.sub,
    source_issuer: outcome.certificate.issuer,
    source_subject: outcome.certificate.subject,
    audience: issuer,
    scopes: outcome.principal.scopes,
    jti: outcome.jti,
    detail: { anchor: outcome.certificate.anchor, serial: outcome.certificate.serial },
    ...request,
  };
}

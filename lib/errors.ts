/**
 * One error hierarchy with stable codes (modelled on jose's `errors.ts`).
 *
 * Every refusal fedbroker makes is one of these. `code` is stable and documented; `oauthError`
 * is the RFC 6749 §5.2 / RFC 6750 §3.1 error string put on the wire; `status` is the HTTP status.
 * Messages are written for the caller: they never carry tokens, keys or AWS account ids.
 */
export abstract class FedbrokerError extends Error {
  /** Stable, documented machine-readable code. */
  abstract readonly code: string;
  /** HTTP status the error maps to. */
  abstract readonly status: number;
  /** Error string used on the wire (RFC 6749 §5.2 vocabulary where it applies). */
  abstract readonly oauthError: string;
  /** Extra response headers (e.g. `Allow`, `Retry-After`, `WWW-Authenticate`). */
  headers(): Record<string, string> {
    return {};
  }
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class RouteNotFound extends FedbrokerError {
  readonly code = 'ERR_ROUTE_NOT_FOUND';
  readonly status = 404;
  readonly oauthError = 'not_found';
}

export class MethodNotAllowed extends FedbrokerError {
  readonly code = 'ERR_METHOD_NOT_ALLOWED';
  readonly status = 405;
  readonly oauthError = 'method_not_allowed';
  readonly allow: readonly string[];
  constructor(allow: readonly string[]) {
    super(`method not allowed; use ${allow.join(', ')}`);
    this.allow = allow;
  }
  override headers() {
    return { Allow: this.allow.join(', ') };
  }
}

export class InvalidRequest extends FedbrokerError {
  readonly code: string = 'ERR_INVALID_REQUEST';
  readonly status: number = 400;
  readonly oauthError: string = 'invalid_request';
}

/** The deployment's configuration is unusable; raised at start, never for a client mistake. */
export class ConfigError extends FedbrokerError {
  readonly code = 'ERR_CONFIG';
  readonly status = 500;
  readonly oauthError = 'server_error';
  readonly issues: readonly string[];
  constructor(issues: readonly string[]) {
    super(`invalid configuration: ${issues.join('; ')}`);
    this.issues = issues;
  }
}

/** A dependency (DynamoDB, KMS, an upstream issuer) is throttling or unreachable: retry later. */
export class ServiceUnavailable extends FedbrokerError {
  readonly code = 'ERR_SERVICE_UNAVAILABLE';
  readonly status = 503;
  readonly oauthError = 'temporarily_unavailable';
  readonly retryAfterSeconds: number;
  constructor(message: string, retryAfterSeconds = 1, options?: { cause?: unknown }) {
    super(message, options);
    this.retryAfterSeconds = retryAfterSeconds;
  }
  override headers() {
    return { 'Retry-After': String(this.retryAfterSeconds) };
  }
}

/** A signing key in the registry can no longer be used (deleted, disabled, wrong key type). */
export class KeyUnavailable extends FedbrokerError {
  readonly code = 'ERR_KEY_UNAVAILABLE';
  readonly status = 503;
  readonly oauthError = 'temporarily_unavailable';
  override headers() {
    return { 'Retry-After': '30' };
  }
}

/** A conditional write lost a race (optimistic concurrency). */
export class ConflictError extends FedbrokerError {
  readonly code: string = 'ERR_CONFLICT';
  readonly status: number = 409;
  readonly oauthError: string = 'conflict';
}

/**
 * A tenant's deny list is full: its live revocations are capped (`REVOCATION_CAP`) because every
 * warm container reads the whole list with the tenant. 409: the state of the tenant, not the
 * request, is what refuses; the way out is a kill switch (disable the trust relationship).
 */
export class RevocationLimitExceeded extends FedbrokerError {
  readonly code = 'ERR_REVOCATION_LIMIT';
  readonly status = 409;
  readonly oauthError = 'revocation_limit_exceeded';
}

/**
 * A tenant already holds the most documents of a kind it may (trust relationships, identity
 * pools). 409: the tenant's state refuses, not the request; the way out is deleting one.
 */
export class LimitExceeded extends FedbrokerError {
  readonly code = 'ERR_LIMIT_EXCEEDED';
  readonly status = 409;
  readonly oauthError = 'limit_exceeded';
}

/** Anything unexpected: the wire sees only a generic message and the request id. */
export class InternalError extends FedbrokerError {
  readonly code = 'ERR_INTERNAL';
  readonly status = 500;
  readonly oauthError = 'server_error';
}

export function isFedbrokerError(e: unknown): e is FedbrokerError {
  return e instanceof FedbrokerError;
}

/**
 * The subject token of an exchange is malformed, unverifiable, expired or not trusted.
 * RFC 8693 §2.2.2 answers all of these with `invalid_request`; `reason` is a stable sub-code
 * for logs and audit (e.g. `signature`, `expired`, `audience`), never echoed with token data.
 */
export class SubjectTokenInvalid extends InvalidRequest {
  override readonly code: string = 'ERR_SUBJECT_TOKEN_INVALID';
  readonly reason: string;
  /**
   * Set when the token's signature had verified before it was refused (a revoked fedbroker access
   * token, one that no longer stands, another tenant's): who it speaks for is then a fact the
   * audit record may state, not a claim.
   */
  readonly verified: { tenant: string; sub: string; trust: string } | undefined;
  constructor(reason: string, message: string, options?: { cause?: unknown; verified?: { tenant: string; sub: string; trust: string } }) {
    super(message, options);
    this.reason = reason;
    this.verified = options?.verified;
  }
}

/** A trust relationship (or other stored policy) failed validation; lists every problem. */
export class PolicyInvalid extends InvalidRequest {
  override readonly code: string = 'ERR_POLICY_INVALID';
  readonly issues: readonly string[];
  constructor(issues: readonly string[]) {
    super(`invalid trust relationship: ${issues.join('; ')}`);
    this.issues = issues;
  }
}

/** RFC 6749 §5.2 `unsupported_grant_type`. */
export class UnsupportedGrantType extends InvalidRequest {
  override readonly code: string = 'ERR_UNSUPPORTED_GRANT_TYPE';
  override readonly oauthError: string = 'unsupported_grant_type';
}

/** RFC 8693 §2.2.2 `invalid_target`: the requested audience or resource is refused. */
export class InvalidTarget extends InvalidRequest {
  override readonly code: string = 'ERR_INVALID_TARGET';
  override readonly oauthError: string = 'invalid_target';
}

/** RFC 6749 §5.2 `invalid_scope`. */
export class InvalidScope extends InvalidRequest {
  override readonly code: string = 'ERR_INVALID_SCOPE';
  override readonly oauthError: string = 'invalid_scope';
}

/** RFC 6750 §3.1 `invalid_token`: the bearer token is missing, malformed, expired or revoked. */
export class InvalidBearerToken extends FedbrokerError {
  readonly code = 'ERR_INVALID_BEARER_TOKEN';
  readonly status = 401;
  readonly oauthError = 'invalid_token';
  override headers() {
    return { 'WWW-Authenticate': 'Bearer error="invalid_token"' };
  }
}

/** RFC 6750 §3.1 `insufficient_scope` / another tenant's resource: 403. */
export class Forbidden extends FedbrokerError {
  readonly code: string = 'ERR_FORBIDDEN';
  readonly status = 403;
  readonly oauthError: string = 'insufficient_scope';
}

/** A named resource (tenant, trust relationship, …) does not exist. */
export class NotFound extends FedbrokerError {
  readonly code = 'ERR_NOT_FOUND';
  readonly status = 404;
  readonly oauthError = 'not_found';
}

/** `If-Match` did not match the current version (RFC 9110 §13.1.1), or was missing (428). */
export class PreconditionFailed extends FedbrokerError {
  readonly code: string = 'ERR_PRECONDITION_FAILED';
  readonly status: number = 412;
  readonly oauthError: string = 'precondition_failed';
}

export class PreconditionRequired extends PreconditionFailed {
  override readonly code: string = 'ERR_PRECONDITION_REQUIRED';
  override readonly status: number = 428;
  override readonly oauthError: string = 'precondition_required';
}

/** RFC 6749 §4.1.2.1 `access_denied`: the principal may not use this resource. */
export class AccessDenied extends Forbidden {
  override readonly code: string = 'ERR_ACCESS_DENIED';
  override readonly oauthError: string = 'access_denied';
}

/**
 * A certificate request (IAM Roles Anywhere signing, docs/x509.md) is refused. The caller always
 * sees the same message, whatever failed (threat model I4, I9); `reason` is a stable sub-code for the
 * audit record and `:explain` only (e.g. `leaf_expired`, `revoked`, `signature`, `replayed`).
 */
export class CertificateRefused extends InvalidRequest {
  override readonly code: string = 'ERR_CERTIFICATE_REFUSED';
  override readonly status: number = 403;
  override readonly oauthError: string = 'access_denied';
  readonly reason: string;
  /** What the request presented, for the audit record (unverified unless the refusal came after the path verified). */
  readonly certificate: { subject?: string; issuer?: string; serial?: string; anchor?: string } | undefined;
  constructor(
    reason: string,
    options?: { cause?: unknown; certificate?: { subject?: string; issuer?: string; serial?: string; anchor?: string } },
  ) {
    super('the certificate request was refused', options);
    this.reason = reason;
    this.certificate = options?.certificate;
  }
}

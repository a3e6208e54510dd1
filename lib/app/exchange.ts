import { epochSeconds } from '../clock.ts';
import type { Config } from '../config.ts';
import { InvalidRequest, InvalidScope, InvalidTarget, SubjectTokenInvalid, UnsupportedGrantType } from '../errors.ts';
import type { RevocationStore } from '../revocation/ports.ts';
import type { TenantDirectory } from '../directory/directory.ts';
import { checkRevocation, verifyAccessTokenSignature } from '../tokens/access-token.ts';
import { mintAccessToken, mintIdToken, type MintDeps } from '../tokens/mint.ts';
import { TOKEN_TYPE, type Principal } from '../tokens/types.ts';
import { allowsIdTokenAudience, type CompiledTrust } from '../trust/policy.ts';
import { SCOPES, TENANT_ID, type Scope } from '../tenants/tenant.ts';
import type { UpstreamKeys } from '../upstream/key-cache.ts';
import { standing } from '../auth/standing.ts';
import { prefetchTenant } from '../auth/tenant-prefetch.ts';
import { authenticateExternal } from './external.ts';
import { TOKEN_EXCHANGE_GRANT } from '../oidc/discovery.ts';

// Defined with the discovery document that advertises it; re-exported for bench/support.ts.
export { TOKEN_EXCHANGE_GRANT };

export interface ExchangeDeps extends MintDeps {
  config: Pick<Config, 'issuer' | 'tokens' | 'upstream'>;
  directory: TenantDirectory;
  upstreamKeys: UpstreamKeys;
  revocations: RevocationStore;
  /** API Gateway's `requestContext.http.sourceIp` (`fedbroker:SourceIp`). */
  sourceIp?: string | undefined;
}

/** RFC 8693 §2.2.1 response. */
export interface ExchangeResponse {
  access_token: string;
  issued_token_type: string;
  token_type: 'Bearer' | 'N_A';
  expires_in: number;
  scope?: string;
}

/** What the audit trail needs to know about a granted exchange. */
export interface ExchangeOutcome {
  response: ExchangeResponse;
  principal: Principal;
  jti: string;
  /** The verified subject token's `iss` and `sub` (and `jti` when it was a fedbroker access token). */
  source: SubjectSource;
}

/** An authenticated subject token: who, through which relationship, and (for fedbroker's own tokens) until when it stands. */
interface Authenticated {
  principal: Principal;
  trust: CompiledTrust;
  source: SubjectSource;
  standsUntil?: number;
}

interface SubjectSource {
  issuer: string;
  subject: string;
  jti?: string;
}

function parseDuration(raw: string | undefined): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d{1,6}$/.test(raw)) throw new InvalidRequest('duration_seconds must be a whole number of seconds');
  const value = Number(raw);
  if (value < 60) throw new InvalidRequest('duration_seconds must be at least 60');
  return value;
}

function parseScopes(raw: string | undefined): Scope[] | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const scopes = raw.split(' ').filter(Boolean);
  const unknown = scopes.find((s) => !(SCOPES as readonly string[]).includes(s));
  if (unknown !== undefined) throw new InvalidScope(`unknown scope ${JSON.stringify(unknown.slice(0, 64))}`);
  return [...new Set(scopes as Scope[])];
}

/** Picks a lifetime: the request's, else the default; never above the relationship's or deployment's cap. */
function lifetime(requested: number | undefined, fallback: number, caps: number[]): number {
  const cap = Math.min(...caps);
  if (requested !== undefined && requested > cap) {
    throw new InvalidRequest(`duration_seconds exceeds the maximum of ${cap} allowed here`);
  }
  return requested ?? Math.min(fallback, cap);
}

async function authenticateOwn(deps: ExchangeDeps, token: string, tenantParam: string | undefined): Promise<Authenticated> {
  prefetchTenant(deps, token);
  const verified = await verifyAccessTokenSignature(token, { issuer: deps.config.issuer, keyRing: deps.keyRing, clock: deps.clock });
  const who = { tenant: verified.tenant, sub: verified.sub, trust: verified.trust };
  // Past the signature every refusal is about a known principal: the audit record may say so.
  const refuse = (e: unknown) =>
    e instanceof SubjectTokenInvalid ? new SubjectTokenInvalid(e.reason, e.message, { cause: e, verified: who }) : e;
  if (tenantParam !== undefined && tenantParam !== verified.tenant) {
    throw refuse(new SubjectTokenInvalid('tenant', 'the access token belongs to another tenant'));
  }
  // The deny list, then kill switches, narrowing and rewrites (standing.ts).
  const { principal: current, trust } = await checkRevocation(verified, deps)
    .then(() => standing(deps, verified))
    .catch((e: unknown) => Promise.reject(refuse(e)));
  const { jti, iat: _iat, exp: _exp, standsUntil, ...principal } = current;
  return {
    principal,
    trust,
    source: { issuer: deps.config.issuer, subject: principal.sub, jti },
    ...(standsUntil !== undefined ? { standsUntil } : {}),
  };
}

/**
 * The one answer to every refused subject token (threat model I4). Which check failed (no such
 * tenant, untrusted issuer, unknown key, bad signature, audience, conditions, expired, revoked,
 * …) would tell anyone who can reach the endpoint which issuers and audiences a tenant trusts;
 * the reason goes to the audit record and the `Exchanges` metric instead, and tenant admins get
 * the per-condition answer from `:explain`.
 */
export const SUBJECT_TOKEN_REFUSED =
  'the subject token was refused; tenant admins can see why in the audit trail or with trust-relationships:explain';

/** Re-raises a subject-token refusal with the one public answer, keeping its reason for audit. */
function opaque(e: unknown): unknown {
  return e instanceof SubjectTokenInvalid
    ? new SubjectTokenInvalid(e.reason, SUBJECT_TOKEN_REFUSED, { cause: e, ...(e.verified ? { verified: e.verified } : {}) })
    : e;
}

/**
 * OAuth 2.0 Token Exchange (RFC 8693 §2): authenticates the subject token (an external OIDC token
 * against the tenant's trust relationships, or a fedbroker access token), then issues a fedbroker
 * access token or an ID token for the requested audience. Every refusal is a typed error with
 * the RFC 6749 §5.2 / RFC 8693 §2.2.2 code.
 */
export async function exchangeToken(deps: ExchangeDeps, params: Record<string, string>): Promise<ExchangeOutcome> {
  if (params.grant_type !== TOKEN_EXCHANGE_GRANT) {
    throw params.grant_type
      ? new UnsupportedGrantType('only the token exchange grant is supported')
      : new InvalidRequest('grant_type is required');
  }
  const { subject_token: subjectToken, subject_token_type: subjectType } = params;
  if (!subjectToken) throw new InvalidRequest('subject_token is required');
  if (!subjectType) throw new InvalidRequest('subject_token_type is required');
  if (params.actor_token !== undefined || params.actor_token_type !== undefined) {
    throw new InvalidRequest('delegation (actor_token) is not supported');
  }
  if (params.resource !== undefined) throw new InvalidTarget('resource is not supported; use audience');
  const requestedType = params.requested_token_type || TOKEN_TYPE.accessToken;
  if (requestedType !== TOKEN_TYPE.accessToken && requestedType !== TOKEN_TYPE.idToken) {
    throw new InvalidRequest('requested_token_type must be the access_token or id_token type');
  }
  const duration = parseDuration(params.duration_seconds);
  const requestedScopes = parseScopes(params.scope);
  const tenantParam = params.tenant;
  if (tenantParam !== undefined && !TENANT_ID.test(tenantParam)) throw new InvalidRequest('tenant is not a valid tenant id');

  deps.keyRing.warm();
  let authenticated: Authenticated;
  if (subjectType === TOKEN_TYPE.idToken || subjectType === TOKEN_TYPE.jwt) {
    if (!tenantParam) throw new InvalidRequest('tenant is required with an external subject token');
    authenticated = await authenticateExternal(
      {
        issuer: deps.config.issuer,
        directory: deps.directory,
        upstreamKeys: deps.upstreamKeys,
        clock: deps.clock,
        upstream: deps.config.upstream,
      },
      subjectToken,
      tenantParam,
      { sourceIp: deps.sourceIp, requestedAudience: requestedType === TOKEN_TYPE.idToken ? params.audience : undefined },
    ).catch((e: unknown) => Promise.reject(opaque(e)));
  } else if (subjectType === TOKEN_TYPE.accessToken) {
    if (requestedType === TOKEN_TYPE.accessToken) {
      // Trading an access token for another would let a token renew itself forever.
      throw new InvalidRequest('a fedbroker access token cannot be exchanged for another access token');
    }
    authenticated = await authenticateOwn(deps, subjectToken, tenantParam).catch((e: unknown) => Promise.reject(opaque(e)));
  } else {
    throw new InvalidRequest('unsupported subject_token_type');
  }
  const { principal, trust, source } = authenticated;
  const maxDuration = trust.relationship.max_duration_seconds;

  if (requestedScopes?.some((s) => !principal.scopes.includes(s))) {
    throw new InvalidScope('a requested scope is not granted to this principal');
  }

  if (requestedType === TOKEN_TYPE.accessToken) {
    if (params.audience !== undefined && params.audience !== deps.config.issuer) {
      throw new InvalidTarget('access tokens are only issued for fedbroker itself; request an id_token for other audiences');
    }
    const scoped = { ...principal, scopes: requestedScopes ?? principal.scopes };
    const ttl = lifetime(duration, deps.config.tokens.accessTokenTtl, [maxDuration, deps.config.tokens.accessTokenMaxTtl]);
    const minted = await mintAccessToken(deps, scoped, ttl);
    return {
      principal: scoped,
      jti: minted.jti,
      source,
      response: {
        access_token: minted.token,
        issued_token_type: TOKEN_TYPE.accessToken,
        token_type: 'Bearer',
        expires_in: ttl,
        scope: scoped.scopes.join(' '),
      },
    };
  }

  if (!principal.scopes.includes('id-token:issue')) throw new InvalidScope('issuing ID tokens needs the id-token:issue scope');
  const audience = params.audience;
  if (!audience) throw new InvalidRequest('audience is required for an id_token');
  if (
    audience.length > 256 ||
    /[\u0000-\u001f\u007f]/.test(audience) ||
    audience === deps.config.issuer ||
    !allowsIdTokenAudience(trust, audience)
  ) {
    throw new InvalidTarget('this audience is not allowed for this principal');
  }
  const capped = lifetime(duration, deps.config.tokens.idTokenTtl, [maxDuration, deps.config.tokens.idTokenMaxTtl]);
  // Clamped, not refused: an ID token never outlives the standing of the access token it comes
  // from (iat + the relationship's current max_duration_seconds), however late it is asked for.
  const ttl =
    authenticated.standsUntil === undefined ? capped : Math.max(1, Math.min(capped, authenticated.standsUntil - epochSeconds(deps.clock)));
  const minted = await mintIdToken(deps, principal, audience, ttl);
  return {
    principal,
    jti: minted.jti,
    source,
    response: { access_token: minted.token, issued_token_type: TOKEN_TYPE.idToken, token_type: 'N_A', expires_in: ttl },
  };
}

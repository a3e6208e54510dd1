import { errors, importJWK, jwtVerify, type JWTPayload } from 'jose';
import type { Clock } from '../clock.ts';
import { SubjectTokenInvalid } from '../errors.ts';
import { MAX_TOKEN_BYTES } from '../limits.ts';
import type { KeyRing } from '../keys/keyring.ts';
import type { RevocationStore } from '../revocation/ports.ts';
import { AWS_SOURCE_IDENTITY_CLAIM, AWS_TAGS_CLAIM, type AwsTagsClaim } from '../trust/session-tags.ts';
import { SCOPES, TENANT_ID, type Scope } from '../tenants/tenant.ts';
import { RELATIONSHIP_ID } from '../trust/schema.ts';
import { CA_FINGERPRINT, type CertificateBinding, MAX_BOUND_SERIALS, SERIAL_HEX } from '../x509/binding.ts';
import { CERTIFICATE_CLAIM, type Principal } from './types.ts';

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** Seconds of clock skew tolerated on `exp`; the deny list covers the same window. */
export const CLOCK_TOLERANCE = 5;

export interface AccessTokenDeps {
  issuer: string;
  keyRing: KeyRing;
  clock: Clock;
}

/**
 * A verified access token: the principal it speaks for, and its `jti`, `iat` and `exp`; once
 * judged against its relationship (lib/auth/standing.ts), also the epoch second its standing ends
 * (`iat` + the relationship's current `max_duration_seconds`), which nothing derived from it outlives.
 */
export type VerifiedAccessToken = Principal & { jti: string; iat: number; exp: number; standsUntil?: number };

/**
 * Authenticates a fedbroker access token for use: {@link verifyAccessTokenSignature}, then the
 * deny list. The deny list is answered from the tenant's cached view (`TenantDirectory`, the same
 * read that serves the tenant's kill switches), so a warm container verifies a token with no
 * store read: a revocation holds at once in the container that recorded it and within
 * FEDBROKER_TENANT_CACHE_SECONDS in every other warm container — the bound of the kill switches.
 * Only tokens whose signature verified reach the deny list, so garbage costs no tenant read.
 */
export async function verifyAccessToken(
  token: string,
  deps: AccessTokenDeps & { revocations: RevocationStore },
): Promise<VerifiedAccessToken> {
  const verified = await verifyAccessTokenSignature(token, deps);
  await checkRevocation(verified, deps);
  return verified;
}

/** The deny-list half of {@link verifyAccessToken}, for a token whose signature already verified. */
export async function checkRevocation(verified: VerifiedAccessToken, deps: { clock: Clock; revocations: RevocationStore }): Promise<void> {
  const at = Math.floor(deps.clock.now() / 1000) - CLOCK_TOLERANCE;
  if (await deps.revocations.isRevoked(verified.jti, verified.tenant, at)) {
    throw new SubjectTokenInvalid('token_revoked', 'the access token has been revoked');
  }
}

/**
 * Verifies a fedbroker access token against fedbroker's own published keys (no network, no
 * deny list): `typ` must be `at+jwt` (RFC 9068 §4), so an ID token is never accepted here; `iss`
 * and `aud` must both be this issuer. Returns the principal it speaks for. Use
 * {@link verifyAccessToken} to accept a token; this alone only identifies one (e.g. to revoke it).
 */
export async function verifyAccessTokenSignature(token: string, deps: AccessTokenDeps): Promise<VerifiedAccessToken> {
  if (token.length > MAX_TOKEN_BYTES) throw new SubjectTokenInvalid('too_large', 'token is too large');
  const hit = verified.get(token);
  if (hit && hit.issuer === deps.issuer) {
    // A token this container verified before: the signature, typ, iss and aud cannot have
    // changed (same bytes), but time and keys can. Expired exactly as jose decides (exp ≤ now −
    // tolerance); its key must still be published (a revoked or removed key ends its tokens).
    if (hit.token.exp <= Math.floor(deps.clock.now() / 1000) - CLOCK_TOLERANCE) {
      verified.delete(token);
      throw new SubjectTokenInvalid('expired', 'fedbroker access token has expired');
    }
    if ((await deps.keyRing.publishedKeys()).some((k) => k.kid === hit.kid)) return hit.token;
    verified.delete(token);
  }
  if (!COMPACT_JWS.test(token)) throw new SubjectTokenInvalid('malformed', 'token is not a compact JWS');
  let payload: JWTPayload;
  let kid: string | undefined;
  try {
    const result = await jwtVerify(token, (header) => keyFor(deps.keyRing, header.kid, header.alg), {
      issuer: deps.issuer,
      audience: deps.issuer,
      typ: 'at+jwt',
      algorithms: ['RS256', 'ES256'],
      requiredClaims: ['exp', 'iat', 'jti', 'sub'],
      currentDate: new Date(deps.clock.now()),
      clockTolerance: CLOCK_TOLERANCE,
    });
    payload = result.payload;
    kid = result.protectedHeader.kid;
  } catch (e) {
    if (e instanceof SubjectTokenInvalid) throw e;
    if (e instanceof errors.JWTExpired) throw new SubjectTokenInvalid('expired', 'fedbroker access token has expired');
    if (e instanceof errors.JOSEError) throw new SubjectTokenInvalid('invalid', 'not a valid fedbroker access token');
    throw e;
  }
  const tenant = payload.tenant_id;
  const scopes = typeof payload.scope === 'string' ? payload.scope.split(' ') : [];
  if (
    typeof tenant !== 'string' ||
    !TENANT_ID.test(tenant) ||
    typeof payload.trust !== 'string' ||
    typeof payload.trust_gen !== 'string' ||
    payload.trust_gen.length === 0 ||
    !payload.sub?.startsWith(`${tenant}/`) ||
    !scopes.every((s): s is Scope => (SCOPES as readonly string[]).includes(s))
  ) {
    throw new SubjectTokenInvalid('invalid', 'not a valid fedbroker access token');
  }
  const certificate = certificateBinding(payload[CERTIFICATE_CLAIM]);
  // Frozen: the same object answers every later use of this token (see `verified` below).
  const result: VerifiedAccessToken = Object.freeze({
    tenant,
    sub: payload.sub,
    trust: payload.trust,
    generation: payload.trust_gen,
    scopes: Object.freeze(scopes) as Scope[],
    tags: payload[AWS_TAGS_CLAIM] as AwsTagsClaim | undefined,
    ...(typeof payload[AWS_SOURCE_IDENTITY_CLAIM] === 'string' ? { sourceIdentity: payload[AWS_SOURCE_IDENTITY_CLAIM] as string } : {}),
    ...(certificate ? { certificate } : {}),
    jti: String(payload.jti),
    iat: Number(payload.iat),
    exp: Number(payload.exp),
  });
  if (kid !== undefined) remember(token, { token: result, kid, issuer: deps.issuer });
  return result;
}

/** The `x509` claim of a certificate-bound token (lib/x509/binding.ts); present but malformed is invalid. */
function certificateBinding(claim: unknown): CertificateBinding | undefined {
  if (claim === undefined) return undefined;
  const c = (claim ?? {}) as Record<string, unknown>;
  const serials = Array.isArray(c.serials) ? (c.serials as unknown[]) : [];
  const valid =
    typeof claim === 'object' &&
    typeof c.anchor === 'string' &&
    RELATIONSHIP_ID.test(c.anchor) &&
    typeof c.ca === 'string' &&
    CA_FINGERPRINT.test(c.ca) &&
    serials.length >= 1 &&
    serials.length <= MAX_BOUND_SERIALS &&
    serials.every(
      (e) =>
        Array.isArray(e) &&
        e.length === 2 &&
        typeof e[0] === 'string' &&
        SERIAL_HEX.test(e[0]) &&
        typeof e[1] === 'string' &&
        CA_FINGERPRINT.test(e[1]),
    );
  if (!valid) throw new SubjectTokenInvalid('invalid', 'not a valid fedbroker access token');
  const bound = (serials as [string, string][]).map(([serial, issuer]) => Object.freeze([serial, issuer] as const));
  return Object.freeze({ anchor: c.anchor as string, ca: c.ca as string, serials: Object.freeze(bound) });
}

/**
 * Access tokens this container has verified, by their exact bytes. A workload typically presents
 * the same access token for several ID tokens during its lifetime; verifying its signature again
 * each time would be most of the cost of issuing one. Bounded (oldest dropped first) and holding
 * successes only, so garbage never fills it.
 */
const MAX_VERIFIED = 2_000;
const verified = new Map<string, { token: VerifiedAccessToken; kid: string; issuer: string }>();

function remember(token: string, entry: { token: VerifiedAccessToken; kid: string; issuer: string }): void {
  if (verified.size >= MAX_VERIFIED) verified.delete(verified.keys().next().value as string);
  verified.set(token, entry);
}

const imported = new Map<string, ReturnType<typeof importJWK>>();

async function keyFor(keyRing: KeyRing, kid: string | undefined, alg: string | undefined) {
  const key = (await keyRing.publishedKeys()).find((k) => k.kid === kid);
  // The header only selects among our own published keys; its alg must be that key's alg.
  if (!key || key.alg !== alg) throw new SubjectTokenInvalid('unknown_key', 'token was not signed by a current fedbroker key');
  let pending = imported.get(key.kid);
  if (!pending) {
    pending = importJWK(key, key.alg);
    imported.set(key.kid, pending);
  }
  return pending;
}

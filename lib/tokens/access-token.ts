import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { JWTHeaderParameters, JWTPayload } from 'jose';
import type { Clock } from '../clock.ts';
import { SubjectTokenInvalid } from '../errors.ts';
import { checkHeader, decodeSegment, numericDate, parseObject, signatureHolds, typMatches } from '../jws.ts';
import { MAX_TOKEN_BYTES } from '../limits.ts';
import type { KeyRing } from '../keys/keyring.ts';
import type { RevocationStore } from '../revocation/ports.ts';
import { AWS_SOURCE_IDENTITY_CLAIM, AWS_TAGS_CLAIM, type AwsTagsClaim } from '../trust/session-tags.ts';
import { SCOPES, TENANT_ID, type Scope } from '../tenants/tenant.ts';
import { RELATIONSHIP_ID } from '../trust/relationship-id.ts';
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
    // changed (same bytes), but time and keys can. Expired exactly as verifyJws decides (exp ≤ now −
    // tolerance, jose's rule); its key must still be published (a revoked or removed key ends its tokens).
    if (hit.token.exp <= Math.floor(deps.clock.now() / 1000) - CLOCK_TOLERANCE) {
      verified.delete(token);
      throw new SubjectTokenInvalid('expired', 'fedbroker access token has expired');
    }
    if ((await deps.keyRing.publishedKeys()).some((k) => k.kid === hit.kid)) return hit.token;
    verified.delete(token);
  }
  if (!COMPACT_JWS.test(token)) throw new SubjectTokenInvalid('malformed', 'token is not a compact JWS');
  const { payload, kid } = await verifyJws(token, deps);
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
  remember(token, { token: result, kid, issuer: deps.issuer });
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

/** The algorithms fedbroker signs access tokens with (lib/keys/): never `none` or HMAC (RFC 8725 §3.1). */
const ACCESS_TOKEN_ALGORITHMS: readonly string[] = ['RS256', 'ES256'];

const notValid = (cause?: unknown) =>
  new SubjectTokenInvalid('invalid', 'not a valid fedbroker access token', cause === undefined ? undefined : { cause });

/**
 * The JWS half of {@link verifyAccessTokenSignature}, with lib/jws.ts in this thread (no jose, no
 * WebCrypto: issue #15). It accepts what jose's `jwtVerify` accepted with the options this module
 * used (typ `at+jwt`, iss = aud = issuer, RS256/ES256, exp/iat/jti/sub required, 5 s tolerance)
 * or less, in the same order, so every refusal keeps its reason: `unknown_key` from the key
 * lookup, `expired` only for a token that is otherwise valid, `invalid` for everything else.
 * Stricter than jose (lib/jws.ts `checkHeader`, `decodeSegment`, `parseObject`): any `crit`,
 * `b64`, `enc`, `jwk`/`jku`/`x5u`/`x5c` header; an odd `kid`; non-canonical base64url;
 * duplicate members; a non-finite NumericDate. test/unit/tokens/access-token-differential.test.ts
 * compares the two.
 */
async function verifyJws(token: string, deps: AccessTokenDeps): Promise<{ payload: JWTPayload; kid: string }> {
  const [headerSegment, payloadSegment, signatureSegment] = token.split('.') as [string, string, string];
  let header: JWTHeaderParameters;
  try {
    const parsed = parseObject(decodeSegment(headerSegment, 'header'), 'header');
    checkHeader(parsed, ACCESS_TOKEN_ALGORITHMS);
    header = parsed;
  } catch (e) {
    throw notValid(e);
  }
  // RFC 7515 §5.2 step 8 as jose orders it: the key is chosen from the header alone.
  const { key, kid } = await keyFor(deps.keyRing, header.kid, header.alg);
  let payload: JWTPayload;
  try {
    const signature = decodeSegment(signatureSegment, 'signature');
    if (!signatureHolds(header.alg, key, `${headerSegment}.${payloadSegment}`, signature)) throw notValid();
    payload = parseObject(decodeSegment(payloadSegment, 'payload'), 'payload') as JWTPayload;
  } catch (e) {
    throw e instanceof SubjectTokenInvalid && e.reason === 'invalid' ? e : notValid(e);
  }
  checkClaims(header, payload, deps);
  return { payload, kid };
}

/** RFC 9068 §4 and RFC 7519 §4.1 in jose's order; `expired` last, so only an otherwise valid token is called expired. */
function checkClaims(header: JWTHeaderParameters, payload: JWTPayload, deps: AccessTokenDeps): void {
  // RFC 9068 §4 / RFC 8725 §3.11: explicit typing, so an ID token is never taken for an access token.
  if (!typMatches(header.typ, 'at+jwt')) throw notValid();
  for (const claim of ['exp', 'iat', 'jti', 'sub', 'aud', 'iss']) if (!Object.hasOwn(payload, claim)) throw notValid();
  if (payload.iss !== deps.issuer) throw notValid();
  const aud = payload.aud;
  if (!(aud === deps.issuer || (Array.isArray(aud) && aud.includes(deps.issuer)))) throw notValid();
  let exp: number;
  try {
    // No check of iat's value: jwtVerify without maxTokenAge made none (the deny list and the
    // relationship's standing, lib/auth/standing.ts, bound a token's life by iat).
    numericDate(payload, 'iat', false);
    const nbf = numericDate(payload, 'nbf');
    const now = Math.floor(deps.clock.now() / 1000);
    if (nbf !== undefined && nbf > now + CLOCK_TOLERANCE) throw notValid();
    exp = numericDate(payload, 'exp')!;
    if (exp <= now - CLOCK_TOLERANCE) throw new SubjectTokenInvalid('expired', 'fedbroker access token has expired');
  } catch (e) {
    throw e instanceof SubjectTokenInvalid && (e.reason === 'invalid' || e.reason === 'expired') ? e : notValid(e);
  }
}

/** Public keys by kid, alg and key material: a published key never changes under its kid, but a test's key ring may. */
const imported = new Map<string, KeyObject>();

async function keyFor(keyRing: KeyRing, kid: string | undefined, alg: string): Promise<{ key: KeyObject; kid: string }> {
  const published = (await keyRing.publishedKeys()).find((k) => k.kid === kid);
  // The header only selects among our own published keys; its alg must be that key's alg (RFC 8725 §3.1).
  if (!published || published.alg !== alg) throw new SubjectTokenInvalid('unknown_key', 'token was not signed by a current fedbroker key');
  const { kty, crv, n, e, x, y } = published;
  const memo = JSON.stringify([published.kid, published.alg, kty, crv, n, e, x, y]);
  let key = imported.get(memo);
  if (!key) {
    // Only the members a public key is made of (RFC 7517 §4, RFC 7518 §6).
    const members = Object.entries({ kty, crv, n, e, x, y }).filter(([, v]) => v !== undefined);
    key = createPublicKey({ key: Object.fromEntries(members) as JsonWebKey, format: 'jwk' });
    if (imported.size >= 64) imported.clear();
    imported.set(memo, key);
  }
  return { key, kid: published.kid };
}

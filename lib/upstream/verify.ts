import { constants, verify as verifySignature, type KeyObject } from 'node:crypto';
import type { JWTHeaderParameters, JWTPayload } from 'jose';
import type { Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import { PolicyInvalid, SubjectTokenInvalid } from '../errors.ts';
import { jsonShapeIssue } from '../json-shape.ts';
import { MAX_TOKEN_BYTES } from '../limits.ts';
import type { UpstreamKeys } from './key-cache.ts';

/**
 * Asymmetric JWS algorithms accepted from upstream issuers. Never `none` or HMAC (RFC 8725
 * §3.1/§2.1: an HS* token "signed" with a public key as secret is the classic confusion), and
 * not EdDSA, which none of the supported issuers use.
 */
export const UPSTREAM_ALGORITHMS: readonly string[] = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'];

/** Options of {@link verifyExternalToken}. */
export interface VerifyExternalOptions {
  keys: UpstreamKeys;
  clock: Clock;
  /** The trust relationship's issuer; compared to `iss` as an exact string (RFC 7519 §4.1.1). */
  issuer: string;
  /** Accepted `aud` values; the token must name at least one (RFC 7519 §4.1.3). */
  audiences: string[];
  /** Oldest accepted token by `iat`; without `iat`, the longest accepted `exp` horizon. */
  maxAgeSeconds?: number;
  /**
   * Farthest accepted `exp`, in seconds from now (plus `clockSkewSeconds`); default 24 h, the
   * longest any supported issuer mints (Cognito developer identities). Bounds tokens that carry
   * a fresh `iat`, which `maxAgeSeconds` alone lets live until their `exp`.
   */
  maxLifetimeSeconds?: number;
  clockSkewSeconds?: number;
  maxTokenBytes?: number;
  /** Reserved: `typ` is not checked, issuers send `JWT`, `at+jwt` or nothing. */
  expectedTyp?: undefined;
}

/** The deployment's bounds on external tokens (`FEDBROKER_UPSTREAM_MAX_TOKEN_*`), as options. */
export function tokenLimits(upstream: Config['upstream']): Pick<VerifyExternalOptions, 'maxAgeSeconds' | 'maxLifetimeSeconds'> {
  return { maxAgeSeconds: upstream.maxTokenAgeSeconds, maxLifetimeSeconds: upstream.maxTokenLifetimeSeconds };
}

/** A verified upstream token. */
export interface VerifiedExternalToken {
  header: JWTHeaderParameters;
  claims: JWTPayload;
}

const B64URL = /^[A-Za-z0-9_-]+$/;
// RFC 8725 §3.10 / RFC 7515 §4.1.2–4.1.6: keys named by the token itself are attacker-chosen.
const KEY_SOURCE_HEADERS = ['jwk', 'jku', 'x5u', 'x5c'];

const invalid = (reason: string, message: string, cause?: unknown) =>
  new SubjectTokenInvalid(reason, message, cause === undefined ? undefined : { cause });

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Strict base64url (RFC 7515 §2): no padding, no foreign characters, canonical trailing bits. */
function decodeSegment(segment: string, what: string): Buffer {
  const bytes = B64URL.test(segment) ? Buffer.from(segment, 'base64url') : undefined;
  if (!bytes || bytes.toString('base64url') !== segment) throw invalid('malformed', `token ${what} is not valid base64url`);
  return bytes;
}

function parseObject(bytes: Buffer, what: string): Record<string, unknown> {
  let text: string;
  let value: unknown;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    value = JSON.parse(text);
  } catch {
    throw invalid('malformed', `token ${what} is not JSON`);
  }
  if (!isObject(value)) throw invalid('malformed', `token ${what} is not a JSON object`);
  // JSON.parse keeps the last of duplicate members, other parsers the first; RFC 7515 §5.2 lets
  // us reject instead, so two components can never read two different `alg`s or `iss`s. The
  // message names neither the member nor anything else the token carries.
  const issue = jsonShapeIssue(text);
  if (issue)
    throw invalid(
      'malformed',
      issue.kind === 'duplicate' ? `token ${what} has duplicate members` : `token ${what} is nested deeper than ${issue.maxDepth} levels`,
    );
  return value;
}

function checkHeader(header: Record<string, unknown>): asserts header is JWTHeaderParameters {
  const alg = header.alg;
  if (typeof alg !== 'string' || !UPSTREAM_ALGORITHMS.includes(alg)) {
    throw invalid('algorithm', 'token alg is not an accepted asymmetric algorithm');
  }
  if ('enc' in header) throw invalid('jwe', 'encrypted tokens are not accepted');
  for (const name of KEY_SOURCE_HEADERS) {
    if (name in header) throw invalid('header', `token header ${name} is not accepted; keys come from the issuer's JWKS`);
  }
  // RFC 7515 §4.1.11: we understand no extensions, so any `crit` must be refused; `b64`
  // (RFC 7797) changes what is signed and has no place in a JWT.
  if ('crit' in header) throw invalid('header', 'token header crit is not accepted');
  if ('b64' in header) throw invalid('header', 'token header b64 is not accepted');
  const kid = header.kid;
  if (kid !== undefined && (typeof kid !== 'string' || kid.length === 0 || kid.length > 256 || /[\u0000-\u001f\u007f]/.test(kid))) {
    throw invalid('header', 'token kid is not an acceptable key id');
  }
}

function numericDate(claims: JWTPayload, name: 'exp' | 'nbf' | 'iat'): number | undefined {
  const value = claims[name];
  if (value === undefined && name !== 'exp') return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw invalid('malformed', `token ${name} claim must be a NumericDate`);
  }
  return value;
}

/** RFC 7519 §4.1.3–4.1.6 with our clock and stable reason codes; runs after the signature check. */
function checkClaims(claims: JWTPayload, opts: VerifyExternalOptions): void {
  const now = opts.clock.now() / 1000;
  const skew = opts.clockSkewSeconds ?? 60;
  const maxAge = opts.maxAgeSeconds ?? 86_400;
  const maxLifetime = opts.maxLifetimeSeconds ?? 86_400;
  const exp = numericDate(claims, 'exp')!;
  const nbf = numericDate(claims, 'nbf');
  const iat = numericDate(claims, 'iat');
  if (now >= exp + skew) throw invalid('expired', 'token has expired');
  if (nbf !== undefined && nbf > now + skew) throw invalid('not_yet_valid', 'token is not valid yet');
  if (iat !== undefined) {
    if (iat > now + skew) throw invalid('issued_in_future', 'token is issued in the future');
    if (now - iat > maxAge) throw invalid('too_old', 'token was issued too long ago');
  } else if (exp - now > maxAge) {
    // Without iat the only bound on a token's life is exp; an absurd exp would be a forever token.
    throw invalid('too_old', 'token without iat expires too far in the future');
  }
  // RFC 7519 §4.1.4 only requires now < exp; nothing bounds exp from above, and the max age above
  // only bounds iat, so a fresh iat with exp years away would be a practically permanent
  // credential if it leaked. Fail closed past the cap. The §4.1.4 leeway applies here as to iat
  // and nbf: a token minted for exactly the cap by an issuer whose clock runs a little ahead passes.
  if (exp - now > maxLifetime + skew) throw invalid('expires_too_late', 'token expires too far in the future');
  const aud = claims.aud;
  const list = typeof aud === 'string' ? [aud] : Array.isArray(aud) && aud.every((a) => typeof a === 'string') ? aud : [];
  if (!list.some((a) => opts.audiences.includes(a))) throw invalid('audience', 'token audience is not accepted');
  if (claims.sub !== undefined && typeof claims.sub !== 'string') throw invalid('malformed', 'token sub claim must be a string');
}

/** Digest per algorithm family member (RFC 7518 §3.1). */
const DIGESTS: Record<string, string> = { '256': 'sha256', '384': 'sha384', '512': 'sha512' };
/** The one curve of each ECDSA algorithm (RFC 7518 §3.4), by OpenSSL name. */
const EC_CURVES: Record<string, string> = { ES256: 'prime256v1', ES384: 'secp384r1', ES512: 'secp521r1' };

/** True when `key` is of the kind `alg` needs: RSA of 2048 bits or more, or EC on the algorithm's curve (RFC 8725 §3.1). */
function keyFits(alg: string, key: KeyObject): boolean {
  const details = key.asymmetricKeyDetails;
  if (alg.startsWith('ES')) return key.asymmetricKeyType === 'ec' && details?.namedCurve === EC_CURVES[alg];
  return key.asymmetricKeyType === 'rsa' && (details?.modulusLength ?? 0) >= 2048;
}

/**
 * Checks the JWS signature over `header.payload` (RFC 7515 §5.2 step 8) with node:crypto, in this
 * thread. jose's `compactVerify` did the same through WebCrypto, whose job runs in libuv's pool:
 * measured here, the hop cost three to four times the CPU of an RS256 verification itself, and
 * it parsed the token a second time. The key comes from {@link UpstreamKeys.getKey}, which only
 * hands out a key of the algorithm's family, size and curve (RFC 8725 §3.1), so `alg` fixes
 * everything here: digest, padding (PKCS#1 v1.5 for RS, PSS with a digest-sized salt for PS,
 * RFC 7518 §3.5) and the fixed-width R‖S form of ECDSA signatures (§3.4).
 */
function signatureHolds(alg: string, key: KeyObject, signingInput: string, signature: Buffer): boolean {
  // The cache already selects by family, size and curve; checked again where the key is used.
  if (!keyFits(alg, key)) throw invalid('algorithm', 'token algorithm is not accepted for this key');
  const digest = DIGESTS[alg.slice(2)]!;
  const family = alg.slice(0, 2);
  try {
    if (family === 'RS') return verifySignature(digest, Buffer.from(signingInput), key, signature);
    if (family === 'PS') {
      return verifySignature(
        digest,
        Buffer.from(signingInput),
        { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST },
        signature,
      );
    }
    return verifySignature(digest, Buffer.from(signingInput), { key, dsaEncoding: 'ieee-p1363' }, signature);
  } catch (e) {
    // OpenSSL refuses some malformed signatures (a wrong length) instead of answering false.
    throw invalid('signature', 'token signature is invalid', e);
  }
}

/**
 * Verifies a subject token from an external OIDC issuer (GitHub Actions, GitLab, Kubernetes,
 * Cognito, …) against the issuer's published keys.
 *
 * Cheap refusals run first and need neither crypto nor network: size, shape, JWE, header
 * (algorithm allow-list, no embedded or remote key sources, no `crit`/`b64`, sane `kid`),
 * duplicate members, and the unverified `iss` — so a token can only ever make us fetch keys of
 * the issuer we were told to trust. Then the signature, then the claims.
 *
 * @throws SubjectTokenInvalid with a stable `reason` for every unacceptable token.
 * @throws ServiceUnavailable when the issuer's keys cannot be fetched (from {@link UpstreamKeys}).
 */
export async function verifyExternalToken(token: string, opts: VerifyExternalOptions): Promise<VerifiedExternalToken> {
  if (typeof token !== 'string') throw invalid('malformed', 'token must be a string');
  if (token.length > (opts.maxTokenBytes ?? MAX_TOKEN_BYTES)) throw invalid('too_large', 'token is too large');
  const parts = token.split('.');
  // A JWE (RFC 7516 §7.1, five parts) is refused before its header is even read: decrypting is
  // not our job, and PBES2 headers with a huge p2c are a CPU exhaustion vector (RFC 8725 §3.3).
  if (parts.length === 5) throw invalid('jwe', 'encrypted tokens are not accepted');
  if (parts.length !== 3) throw invalid('malformed', 'token is not a compact JWS');
  const [headerSegment, payloadSegment, signatureSegment] = parts as [string, string, string];

  const header = parseObject(decodeSegment(headerSegment, 'header'), 'header');
  checkHeader(header);
  const claims = parseObject(decodeSegment(payloadSegment, 'payload'), 'payload') as JWTPayload;
  const signature = decodeSegment(signatureSegment, 'signature');

  // Exact comparison, no normalisation (OIDC Core §3.1.3.7 step 2): `https://a/` is not `https://a`.
  if (claims.iss !== opts.issuer) throw invalid('issuer', 'token issuer is not the trusted issuer');

  let key: Awaited<ReturnType<UpstreamKeys['getKey']>>;
  try {
    key = await opts.keys.getKey(opts.issuer, { alg: header.alg, ...(header.kid === undefined ? {} : { kid: header.kid }) });
  } catch (e) {
    // A stored issuer this deployment may not fetch (e.g. loopback, stored in local mode): no
    // token of it can be verified. The URL check's findings describe the relationship, not the
    // token, so they stay in the cause and never reach the caller.
    if (e instanceof PolicyInvalid) throw invalid('untrusted_issuer', 'token issuer is not trusted', e);
    throw e;
  }
  if (!signatureHolds(header.alg, key, `${headerSegment}.${payloadSegment}`, signature)) {
    throw invalid('signature', 'token signature is invalid');
  }
  checkClaims(claims, opts);
  return { header, claims };
}

import { constants, verify as verifySignature, type KeyObject } from 'node:crypto';
import type { JWTHeaderParameters, JWTPayload } from 'jose';
import { SubjectTokenInvalid } from './errors.ts';
import { jsonShapeIssue } from './json-shape.ts';

/**
 * Compact JWS (RFC 7515 §7.1) mechanics shared by every verifier of a JWT in fedbroker: upstream
 * tokens (lib/upstream/verify.ts) and fedbroker's own access tokens (lib/tokens/access-token.ts).
 * In-thread node:crypto only: no WebCrypto job, no jose on the request path (issue #15: its
 * module evaluation and the first WebCrypto use dominated a cold start). Policy — which
 * algorithms, issuers, audiences and lifetimes are acceptable — stays with each caller.
 *
 * Every refusal is a {@link SubjectTokenInvalid} whose reason the caller may keep or map.
 */

const B64URL = /^[A-Za-z0-9_-]+$/;
// RFC 8725 §3.10 / RFC 7515 §4.1.2–4.1.6: keys named by the token itself are attacker-chosen.
const KEY_SOURCE_HEADERS = ['jwk', 'jku', 'x5u', 'x5c'];

const invalid = (reason: string, message: string, cause?: unknown) =>
  new SubjectTokenInvalid(reason, message, cause === undefined ? undefined : { cause });

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Strict base64url (RFC 7515 §2): no padding, no foreign characters, canonical trailing bits. */
export function decodeSegment(segment: string, what: string): Buffer {
  const bytes = B64URL.test(segment) ? Buffer.from(segment, 'base64url') : undefined;
  if (!bytes || bytes.toString('base64url') !== segment) throw invalid('malformed', `token ${what} is not valid base64url`);
  return bytes;
}

/** A JOSE header or JWT claims set (RFC 7515 §5.2 steps 2–4, RFC 7519 §7.2 steps 9–10). */
export function parseObject(bytes: Buffer, what: string): Record<string, unknown> {
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

/**
 * The header checks every fedbroker verifier applies: `alg` in the caller's allow-list, no JWE,
 * no key named by the token, no `crit`/`b64`, a sane `kid`.
 */
export function checkHeader(header: Record<string, unknown>, algorithms: readonly string[]): asserts header is JWTHeaderParameters {
  const alg = header.alg;
  if (typeof alg !== 'string' || !algorithms.includes(alg)) {
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

/**
 * Splits a compact JWS into its three segments after the checks that need no decoding: a string,
 * at most `maxTokenBytes`, not a JWE, exactly three parts.
 */
function splitCompact(token: unknown, maxTokenBytes: number): [string, string, string] {
  if (typeof token !== 'string') throw invalid('malformed', 'token must be a string');
  if (token.length > maxTokenBytes) throw invalid('too_large', 'token is too large');
  const parts = token.split('.');
  // A JWE (RFC 7516 §7.1, five parts) is refused before its header is even read: decrypting is
  // not our job, and PBES2 headers with a huge p2c are a CPU exhaustion vector (RFC 8725 §3.3).
  if (parts.length === 5) throw invalid('jwe', 'encrypted tokens are not accepted');
  if (parts.length !== 3) throw invalid('malformed', 'token is not a compact JWS');
  return parts as [string, string, string];
}

/** A compact JWS read but not yet verified: what {@link signatureHolds} and the claim checks need. */
export interface DecodedJws {
  header: JWTHeaderParameters;
  claims: JWTPayload;
  signingInput: string;
  signature: Buffer;
}

/**
 * Reads a compact JWS in the order of RFC 7515 §5.2: header (checked against `algorithms` and
 * {@link checkHeader}), payload, signature. Nothing here is verified yet.
 */
export function decodeJws(token: unknown, opts: { algorithms: readonly string[]; maxTokenBytes: number }): DecodedJws {
  const [headerSegment, payloadSegment, signatureSegment] = splitCompact(token, opts.maxTokenBytes);
  const header = parseObject(decodeSegment(headerSegment, 'header'), 'header');
  checkHeader(header, opts.algorithms);
  const claims = parseObject(decodeSegment(payloadSegment, 'payload'), 'payload') as JWTPayload;
  const signature = decodeSegment(signatureSegment, 'signature');
  return { header, claims, signingInput: `${headerSegment}.${payloadSegment}`, signature };
}

/**
 * The claims of a JWT read without verifying anything, only to describe what was presented (an
 * audit record's `claimed_*`). Parsed exactly as the verifiers parse them, so the record never
 * shows claims no verifier would have read; undefined for anything that is not a compact JWS.
 */
export function unverifiedClaims(token: string, maxTokenBytes: number): JWTPayload | undefined {
  try {
    const [, payloadSegment] = splitCompact(token, maxTokenBytes);
    return parseObject(decodeSegment(payloadSegment, 'payload'), 'payload') as JWTPayload;
  } catch {
    return undefined;
  }
}

/** A NumericDate claim (RFC 7519 §2, §4.1.4–4.1.6): a finite number; `exp` is always required. */
export function numericDate(claims: JWTPayload, name: 'exp' | 'nbf' | 'iat', required = name === 'exp'): number | undefined {
  const value = claims[name];
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw invalid('malformed', `token ${name} claim must be a NumericDate`);
  }
  return value;
}

/**
 * RFC 7515 §4.1.9: `typ` is a media type whose `application/` prefix may be left out, and media
 * types compare case-insensitively (RFC 2045 §5.1). The same normalisation as jose's jwtVerify,
 * so `at+jwt`, `AT+JWT` and `application/at+jwt` all name RFC 9068's type.
 */
export function typMatches(typ: unknown, expected: string): boolean {
  const normalise = (value: string) => {
    const lower = value.toLowerCase();
    return value.includes('/') ? lower : `application/${lower}`;
  };
  return typeof typ === 'string' && normalise(typ) === normalise(expected);
}

/** Digest per algorithm family member (RFC 7518 §3.1). */
const DIGESTS: Record<string, string> = { '256': 'sha256', '384': 'sha384', '512': 'sha512' };
/** The one curve of each ECDSA algorithm (RFC 7518 §3.4), by OpenSSL name. */
const EC_CURVES: Record<string, string> = { ES256: 'prime256v1', ES384: 'secp384r1', ES512: 'secp521r1' };

/** True when `key` is of the kind `alg` needs: RSA of 2048 bits or more, or EC on the algorithm's curve (RFC 8725 §3.1). */
function keyFits(alg: string, key: KeyObject): boolean {
  const details = key.asymmetricKeyDetails;
  if (alg.startsWith('ES')) return key.asymmetricKeyType === 'ec' && details?.namedCurve === EC_CURVES[alg];
  return /^(RS|PS)(256|384|512)$/.test(alg) && key.asymmetricKeyType === 'rsa' && (details?.modulusLength ?? 0) >= 2048;
}

/**
 * Checks the JWS signature over `header.payload` (RFC 7515 §5.2 step 8) with node:crypto, in this
 * thread. jose's `compactVerify` did the same through WebCrypto, whose job runs in libuv's pool:
 * measured here, the hop cost three to four times the CPU of an RS256 verification itself, and
 * it parsed the token a second time. The caller selects the key by `alg` (RFC 8725 §3.1), and
 * {@link keyFits} checks it again here, so `alg` fixes everything: digest, padding (PKCS#1 v1.5
 * for RS, PSS with a digest-sized salt for PS, RFC 7518 §3.5) and the fixed-width R‖S form of
 * ECDSA signatures (§3.4; a DER signature is refused).
 */
export function signatureHolds(alg: string, key: KeyObject, signingInput: string, signature: Buffer): boolean {
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

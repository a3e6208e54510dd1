import type { JWTHeaderParameters, JWTPayload } from 'jose';
import type { Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import { PolicyInvalid, SubjectTokenInvalid } from '../errors.ts';
import { decodeJws, numericDate, signatureHolds } from '../jws.ts';
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

const invalid = (reason: string, message: string, cause?: unknown) =>
  new SubjectTokenInvalid(reason, message, cause === undefined ? undefined : { cause });

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

/**
 * Verifies a subject token from an external OIDC issuer (GitHub Actions, GitLab, Kubernetes,
 * Cognito, …) against the issuer's published keys. The compact-JWS mechanics (strict base64url,
 * header checks, the node:crypto signature check) are lib/jws.ts's, shared with fedbroker's own
 * access tokens; the policy here is the upstream one.
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
  const { header, claims, signingInput, signature } = decodeJws(token, {
    algorithms: UPSTREAM_ALGORITHMS,
    maxTokenBytes: opts.maxTokenBytes ?? MAX_TOKEN_BYTES,
  });

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
  if (!signatureHolds(header.alg, key, signingInput, signature)) {
    throw invalid('signature', 'token signature is invalid');
  }
  checkClaims(claims, opts);
  return { header, claims };
}

import type { Clock } from '../clock.ts';
import { Forbidden, InvalidRequest, RevocationLimitExceeded, SubjectTokenInvalid } from '../errors.ts';
import { MAX_TOKEN_BYTES } from '../limits.ts';
import { CLOCK_TOLERANCE, verifyAccessTokenSignature, type AccessTokenDeps, type VerifiedAccessToken } from '../tokens/access-token.ts';
import { REVOCATION_CAP, type RevocationStore } from '../revocation/ports.ts';

export interface RevokeDeps extends AccessTokenDeps {
  clock: Clock;
  revocations: RevocationStore;
  /** FEDBROKER_ACCESS_TOKEN_MAX_TTL: no access token lives longer, so no deny entry needs to. */
  accessTokenMaxTtl: number;
}

/** The answer: `revoked: false` when the token had already expired (nothing left to stop). */
export interface RevokeResult {
  jti?: string;
  expires_at?: number;
  revoked: boolean;
  reason?: 'expired';
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The body, exactly `{"token": …}` or `{"jti": …, "exp": …}` and nothing else (an unknown member
 * is refused rather than ignored). Checked by hand: zod would be the only reason for this
 * function's bundle to carry it.
 */
function parseBody(body: unknown): { token: string } | { jti: string; exp: number } | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const b = body as Record<string, unknown>;
  const keys = Object.keys(b).sort().join(',');
  if (keys === 'token') {
    return typeof b.token === 'string' && b.token.length >= 1 && b.token.length <= MAX_TOKEN_BYTES ? { token: b.token } : undefined;
  }
  if (keys !== 'exp,jti' || typeof b.jti !== 'string') return undefined;
  const jti = b.jti.toLowerCase();
  return UUID.test(jti) && Number.isSafeInteger(b.exp) && (b.exp as number) > 0 ? { jti, exp: b.exp as number } : undefined;
}

/**
 * Revokes a fedbroker access token of `tenant`: writes a deny-list entry into the tenant's own
 * partition that lives until the token's `exp`, after which the token is refused anyway. The
 * token is refused at once in this container and within FEDBROKER_TENANT_CACHE_SECONDS in every
 * other warm one (the entry travels with the tenant's cached view). Given the token itself, its
 * signature is verified and it must belong to `tenant` (403 otherwise); given a bare `jti`, its
 * `exp` must lie within FEDBROKER_ACCESS_TOKEN_MAX_TTL from now (no token lives longer), so an
 * entry cannot be made to outlive any token. An entry only ever applies to tokens of the tenant
 * that wrote it. An already expired token needs no entry: that is a no-op, not an error, so
 * retried or batched revocations stay idempotent. A tenant holding {@link REVOCATION_CAP} live
 * entries is refused with {@link RevocationLimitExceeded}: disabling the trust relationship is
 * the tool for that many tokens.
 */
export async function revokeAccessToken(deps: RevokeDeps, tenant: string, body: unknown): Promise<RevokeResult> {
  const parsed = parseBody(body);
  if (!parsed) throw new InvalidRequest('the body must be {"token": "<access token>"} or {"jti": "<uuid>", "exp": <epoch seconds>}');
  const now = Math.floor(deps.clock.now() / 1000);
  let jti: string;
  let exp: number;
  let trust: string | undefined;
  if ('token' in parsed) {
    let verified: VerifiedAccessToken;
    try {
      verified = await verifyAccessTokenSignature(parsed.token, deps);
    } catch (e) {
      if (e instanceof SubjectTokenInvalid && e.reason === 'expired') return { revoked: false, reason: 'expired' };
      if (e instanceof SubjectTokenInvalid) throw new InvalidRequest('token is not a valid fedbroker access token');
      throw e;
    }
    if (verified.tenant !== tenant) throw new Forbidden('the token belongs to another tenant');
    ({ jti, exp, trust } = verified);
  } else {
    ({ jti, exp } = parsed);
    if (exp > now + deps.accessTokenMaxTtl) {
      throw new InvalidRequest(`exp is later than any access token can live (now + ${deps.accessTokenMaxTtl} s); give the token's own exp`);
    }
  }
  // Expired beyond the verifier's clock tolerance: no use of the token can succeed any more, and
  // entries like that are dead (they neither stop anything nor count against the cap).
  const liveAt = now - CLOCK_TOLERANCE;
  if (exp < liveAt) return { jti, expires_at: exp, revoked: false, reason: 'expired' };
  if ((await deps.revocations.revoke({ jti, tenant, exp }, liveAt)) === 'full') {
    const relationship = trust === undefined ? 'the trust relationship that issued it' : `trust relationship ${trust}`;
    throw new RevocationLimitExceeded(
      `tenant ${tenant} already holds ${REVOCATION_CAP} unexpired revocations, the most it can; ` +
        `to stop this token, disable ${relationship} (PUT it with "enabled": false, or DELETE it): ` +
        'that stops every token it issued, within FEDBROKER_TENANT_CACHE_SECONDS',
    );
  }
  return { jti, expires_at: exp, revoked: true };
}

import { z } from 'zod';
import type { Clock } from '../clock.ts';
import { ConflictError, Forbidden, InvalidRequest, SubjectTokenInvalid } from '../errors.ts';
import { CLOCK_TOLERANCE, verifyAccessTokenSignature, type AccessTokenDeps } from '../tokens/access-token.ts';
import type { RevocationStore } from './ports.ts';

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

const bodySchema = z.union([
  z.strictObject({ jti: z.string().toLowerCase().regex(UUID, 'must be a token id (a UUID)'), exp: z.number().int().positive() }),
  z.strictObject({ token: z.string().min(1).max(16 * 1024) }),
]);

/**
 * Revokes a fedbroker access token of `tenant`: writes a deny-list entry that lives until the
 * token's `exp`, after which the token is refused anyway. Given the token itself, its signature
 * is verified and it must belong to `tenant` (403 otherwise); given a bare `jti`, its `exp` must
 * lie within FEDBROKER_ACCESS_TOKEN_MAX_TTL from now (no token lives longer), so an entry cannot
 * be made to outlive any token. A deny entry only ever applies to tokens of the tenant that wrote
 * it; a bare jti already claimed by another tenant's entry is refused with 409 (the token itself
 * then proves ownership and wins). An already expired token needs no entry: that is a no-op, not
 * an error, so retried or batched revocations stay idempotent.
 */
export async function revokeAccessToken(deps: RevokeDeps, tenant: string, body: unknown): Promise<RevokeResult> {
  const parsed = bodySchema.safeParse(body);
  if (!parsed.success) throw new InvalidRequest('the body must be {"token": "<access token>"} or {"jti": "<uuid>", "exp": <epoch seconds>}');
  const now = Math.floor(deps.clock.now() / 1000);
  let jti: string;
  let exp: number;
  const proven = 'token' in parsed.data;
  if ('token' in parsed.data) {
    let verified;
    try {
      verified = await verifyAccessTokenSignature(parsed.data.token, deps);
    } catch (e) {
      if (e instanceof SubjectTokenInvalid && e.reason === 'expired') return { revoked: false, reason: 'expired' };
      if (e instanceof SubjectTokenInvalid) throw new InvalidRequest('token is not a valid fedbroker access token');
      throw e;
    }
    if (verified.tenant !== tenant) throw new Forbidden('the token belongs to another tenant');
    ({ jti, exp } = verified);
  } else {
    ({ jti, exp } = parsed.data);
    if (exp > now + deps.accessTokenMaxTtl) {
      throw new InvalidRequest(`exp is later than any access token can live (now + ${deps.accessTokenMaxTtl} s); give the token's own exp`);
    }
  }
  // Expired beyond the verifier's clock tolerance: no use of the token can succeed any more.
  if (exp < now - CLOCK_TOLERANCE) return { jti, expires_at: exp, revoked: false, reason: 'expired' };
  if ((await deps.revocations.revoke({ jti, tenant, exp }, { proven })) === 'held_by_another_tenant') {
    // Only someone who knew this token's jti could have written that entry; the token itself proves ownership.
    throw new ConflictError('another tenant has revoked this jti; revoke with {"token": …} to prove the token is yours');
  }
  return { jti, expires_at: exp, revoked: true };
}

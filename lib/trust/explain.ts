import { decodeJwt } from 'jose';
import type { Clock } from '../clock.ts';
import { InvalidRequest, SubjectTokenInvalid } from '../errors.ts';
import { unverifiedIssuer } from '../exchange/external.ts';
import type { TrustStore } from '../tenants/ports.ts';
import type { UpstreamKeys } from '../upstream/key-cache.ts';
import { verifyExternalToken } from '../upstream/verify.ts';
import { evaluateConditions } from './conditions.ts';
import { compileRelationship } from './policy.ts';

export interface ExplainDeps {
  store: TrustStore;
  upstreamKeys: UpstreamKeys;
  clock: Clock;
  maxTokenAgeSeconds: number;
}

type Check = { check: string; matched: boolean; operator?: string; key?: string; seen?: unknown; expected?: unknown };

const shorten = (v: unknown) => (typeof v === 'string' && v.length > 256 ? `${v.slice(0, 256)}…` : v);

/**
 * For each of a tenant's relationships, whether `token` would be admitted and, if not, which
 * check failed with the value seen (issuer, audience, enabled, each condition). The token is
 * verified first; an unverified token never shows as matched. Reads the store directly, so the
 * answer reflects the latest writes, not a warm container's cache.
 */
export async function explainToken(deps: ExplainDeps, tenant: string, token: unknown) {
  if (typeof token !== 'string' || token.length === 0) throw new InvalidRequest('token is required');
  const { relationships } = await deps.store.readTenant(tenant);
  const iss = unverifiedIssuer(token);
  const sameIssuer = relationships.filter((r) => r.issuer === iss);
  let verified = false;
  let reason: string | undefined;
  let claims: Record<string, unknown> = {};
  try {
    claims = decodeJwt(token) as Record<string, unknown>;
  } catch {
    reason = 'malformed';
  }
  if (!reason && iss && sameIssuer.length) {
    try {
      claims = (
        await verifyExternalToken(token, {
          keys: deps.upstreamKeys,
          clock: deps.clock,
          issuer: iss,
          audiences: [...new Set(sameIssuer.flatMap((r) => r.audiences))],
          maxAgeSeconds: deps.maxTokenAgeSeconds,
        })
      ).claims as Record<string, unknown>;
      verified = true;
    } catch (e) {
      if (!(e instanceof SubjectTokenInvalid)) throw e;
      reason = e.reason;
    }
  } else if (!reason) {
    reason = 'untrusted_issuer';
  }
  const aud = typeof claims.aud === 'string' ? [claims.aud] : Array.isArray(claims.aud) ? claims.aud : [];
  return {
    verified,
    ...(reason ? { reason } : {}),
    relationships: relationships
      .sort((a, b) => a.id.localeCompare(b.id))
      .map((r) => {
        const checks: Check[] = [
          { check: 'enabled', matched: r.enabled },
          { check: 'issuer', matched: r.issuer === iss, expected: r.issuer, seen: shorten(iss) },
          { check: 'audience', matched: r.audiences.some((a) => aud.includes(a)), expected: r.audiences, seen: aud.map(shorten) },
        ];
        try {
          const result = evaluateConditions(compileRelationship(r).conditions, claims);
          checks.push(...result.checks.map((c) => ({ check: 'condition', operator: c.operator, key: c.key, matched: c.matched, seen: c.seen })));
        } catch {
          checks.push({ check: 'conditions_compile', matched: false });
        }
        return { id: r.id, matched: verified && checks.every((c) => c.matched), checks };
      }),
  };
}

import type { Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import { InvalidRequest, SubjectTokenInvalid } from '../errors.ts';
import { unverifiedIssuer } from './external.ts';
import type { TenantRecord, TrustStore } from '../directory/ports.ts';
import type { UpstreamKeys } from '../upstream/key-cache.ts';
import { tokenLimits, verifyExternalToken } from '../upstream/verify.ts';
import { requestBudget } from '../trust/limits.ts';
import { exchangeVerdict, tenantStanding, verdictFor } from './explain-verdict.ts';
import { explainedRelationships, standingChecks } from '../tenants/evaluated-relationships.ts';
import { compileRelationship, type Check, type TrustContext } from '../trust/policy.ts';
import { contextValues, withRequestContext } from '../trust/context.ts';

export interface ExplainDeps {
  /** fedbroker's own issuer: its tokens are never external identities, as in the exchange. */
  issuer: string;
  store: TrustStore;
  upstreamKeys: UpstreamKeys;
  clock: Clock;
  /** Bounds on external tokens' age and lifetime. */
  upstream: Config['upstream'];
  context: TrustContext;
  /** How this request reads the tenant, as in `AdminDeps.readTenant`; without it, `store.readTenant`. */
  readTenant?: (tenant: string) => Promise<TenantRecord>;
}

const shorten = (v: unknown) => (typeof v === 'string' && v.length > 256 ? `${v.slice(0, 256)}…` : v);

/**
 * For each of a tenant's relationships, whether `token` would be admitted and, if not, which
 * check failed with the value seen (enabled, issuer, audience, Cognito amr, each condition).
 * `matched` is the exchange's own verdict over the relationships it would consider (threat model
 * I3). The token is verified first; an unverified token never shows as matched. Reads the tenant with a
 * read started during the request (`deps.readTenant`), or the store directly, so the answer
 * reflects the latest writes, not a warm container's cache.
 */
export async function explainToken(
  deps: ExplainDeps,
  tenant: string,
  token: unknown,
  what: { sourceIp?: string | undefined; requestedAudience?: string | undefined } = {},
) {
  if (typeof token !== 'string' || token.length === 0) throw new InvalidRequest('token is required');
  // Exactly the relationships the exchange evaluates (directory/directory.ts), and the others
  // with the check that keeps them out (threat model I3).
  const record = await (deps.readTenant ? deps.readTenant(tenant) : deps.store.readTenant(tenant));
  const listed = explainedRelationships(record.relationships);
  const trusts = listed.flatMap((entry) => {
    try {
      const compiled = compileRelationship(entry.relationship, deps.context);
      return [{ ...compiled, standing: standingChecks(entry), unevaluated: entry.unevaluated }];
    } catch {
      return [];
    }
  });
  const iss = unverifiedIssuer(token);
  // The relationships the exchange would consider (lib/app/external.ts): of the evaluated set, the
  // token's issuer, never fedbroker's own (its tokens are not external identities), no x509 one.
  // As the exchange, a tenant that is not active admits nothing.
  const standing = tenantStanding(record);
  const candidates =
    !standing && iss && iss !== deps.issuer
      ? trusts.filter((t) => !t.unevaluated && t.issuer === iss && t.relationship.kind !== 'x509')
      : [];
  let verified = false;
  let reason: string | undefined;
  let claims: Record<string, unknown> = {};
  if (standing) reason = standing;
  else if (!iss) reason = 'malformed';
  else if (candidates.length === 0) reason = 'untrusted_issuer';
  else {
    try {
      const result = await verifyExternalToken(token, {
        keys: deps.upstreamKeys,
        clock: deps.clock,
        issuer: iss,
        audiences: [...new Set(candidates.flatMap((t) => t.audiences))],
        ...tokenLimits(deps.upstream),
      });
      claims = result.claims as Record<string, unknown>;
      verified = true;
    } catch (e) {
      if (!(e instanceof SubjectTokenInvalid)) throw e;
      reason = e.reason;
    }
  }
  // Conditions are evaluated only over claims whose signature verified against a trusted issuer
  // (threat model I3): over unverified claims an attacker would choose the input of the most
  // expensive evaluation, and the answer would describe a token nobody issued. Otherwise the
  // answer stays at the token level: why it was not verified, and which relationships name its
  // issuer.
  // The request context the conditions see (trust/context.ts): the broker's clock, and the source
  // address and audience the admin asks about (a what-if; the exchange uses API Gateway's).
  const ctx = { now: deps.clock.now(), ...what };
  const seen = withRequestContext(claims, ctx);
  // `matched` is the exchange's verdict, reached its way: id order, each candidate up to its first
  // failed check, one step budget (lib/trust/limits.ts). The checks shown are evaluated again for
  // the same candidates with a second budget; no other relationship's conditions are evaluated.
  const verdict = verified ? exchangeVerdict(candidates, seen, claims, tenant) : {};
  const shown = requestBudget();
  const considered = new Set(verified ? candidates : []);
  return {
    verified,
    context: contextValues(ctx),
    ...(reason ? { reason } : {}),
    relationships: trusts.map((t) => {
      const own = considered.has(t) ? t.evaluate(seen, shown).checks : [];
      const { matched, extra } = verdictFor(t, own, verdict);
      const checks: Check[] = [
        ...t.standing,
        { check: 'issuer', matched: t.issuer === iss, expected: t.issuer, seen: shorten(iss) },
        ...own,
        ...extra,
      ];
      return { id: t.relationship.id, matched, checks };
    }),
  };
}

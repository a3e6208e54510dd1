import type { Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import { SubjectTokenInvalid } from '../errors.ts';
import { MAX_TOKEN_BYTES } from '../limits.ts';
import type { TenantDirectory } from '../directory/directory.ts';
import type { CompiledTrust } from '../trust/policy.ts';
import { renderIdentity } from '../trust/identity.ts';
import { requestBudget } from '../trust/limits.ts';
import { withRequestContext } from '../trust/context.ts';
import type { UpstreamKeys } from '../upstream/key-cache.ts';
import { tokenLimits, verifyExternalToken } from '../upstream/verify.ts';
import type { Principal } from '../tokens/types.ts';

export interface ExternalDeps {
  issuer: string;
  directory: TenantDirectory;
  upstreamKeys: UpstreamKeys;
  clock: Clock;
  /** Bounds on external tokens' age and lifetime. */
  upstream: Config['upstream'];
}

const sourceIdentityField = (v: string | undefined) => (v === undefined ? {} : { sourceIdentity: v });

/** One message for every "not trusted" outcome, so refusals do not reveal which relationship almost matched. */
const NOT_TRUSTED = 'the subject token is not trusted by this tenant';

/**
 * Reads `iss` from a token without trusting it, only to pick the relationships worth verifying
 * against. Anything that is not a plain three-part JWS yields undefined.
 */
export function unverifiedIssuer(token: string): string | undefined {
  if (token.length > MAX_TOKEN_BYTES) return undefined;
  const parts = token.split('.');
  if (parts.length !== 3 || !parts[1]) return undefined;
  try {
    const payload: unknown = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    const iss = (payload as { iss?: unknown } | null)?.iss;
    return typeof iss === 'string' ? iss : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Authenticates an external token for `tenant`: verified against its issuer's keys with the
 * hardened fetcher, then matched against the tenant's enabled relationships for that exact
 * issuer (for Cognito identity pools: the deployment's Cognito issuer), in id order; the first
 * whose audience, kind-specific checks (Cognito `amr`) and conditions all hold admits it.
 */
export async function authenticateExternal(
  deps: ExternalDeps,
  token: string,
  tenant: string,
  context: { sourceIp?: string | undefined; requestedAudience?: string | undefined } = {},
): Promise<{ principal: Principal; trust: CompiledTrust; source: { issuer: string; subject: string } }> {
  const view = await deps.directory.get(tenant);
  // Told apart for the audit reason and metrics only; the wire answer is the same.
  if (!view.tenant) throw new SubjectTokenInvalid('unknown_tenant', NOT_TRUSTED);
  if (view.tenant.status !== 'active') throw new SubjectTokenInvalid('tenant', NOT_TRUSTED);
  const iss = unverifiedIssuer(token);
  // fedbroker's own tokens are never external identities: that would let tokens launder themselves.
  const candidates = iss && iss !== deps.issuer ? view.trusts.filter((t) => t.issuer === iss && t.relationship.kind !== 'x509') : [];
  if (!iss || candidates.length === 0) {
    throw new SubjectTokenInvalid(
      iss ? 'untrusted_issuer' : 'malformed',
      iss ? NOT_TRUSTED : 'the subject token is not a well-formed signed JWT',
    );
  }
  const { claims } = await verifyExternalToken(token, {
    keys: deps.upstreamKeys,
    clock: deps.clock,
    issuer: iss,
    audiences: [...new Set(candidates.flatMap((t) => t.audiences))],
    ...tokenLimits(deps.upstream),
  });
  // One step budget for every candidate of this request (lib/trust/limits.ts): the hard ceiling on
  // what a tenant's relationships and a token can cost together.
  const budget = requestBudget();
  // Conditions also see the request context (trust/context.ts); templates and tags read the token alone.
  const seen = withRequestContext(claims, { now: deps.clock.now(), ...context });
  const trust = candidates.find((t) => t.evaluate(seen, budget, 'first-failure').matched);
  // The audit reason says whether the budget, not the conditions, decided (the caller sees neither).
  if (!trust) throw new SubjectTokenInvalid(budget.remaining <= 0 ? 'evaluation_budget' : 'no_matching_trust', NOT_TRUSTED);
  const relationship = trust.relationship;
  // No fallback to a later relationship when this refuses (explained the same way: app/explain.ts).
  const { sub, tags, sourceIdentity } = renderIdentity(relationship, tenant, claims);
  return {
    trust,
    source: { issuer: iss, subject: typeof claims.sub === 'string' ? claims.sub : '' },
    principal: {
      tenant,
      trust: relationship.id,
      generation: relationship.generation,
      sub,
      scopes: relationship.scopes,
      tags,
      ...sourceIdentityField(sourceIdentity),
    },
  };
}

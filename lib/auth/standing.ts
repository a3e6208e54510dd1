import type { Clock } from '../clock.ts';
import { SubjectTokenInvalid } from '../errors.ts';
import type { TenantDirectory } from '../directory/directory.ts';
import { CLOCK_TOLERANCE, type VerifiedAccessToken } from '../tokens/access-token.ts';
import type { CompiledTrust } from '../trust/policy.ts';
import type { TrustAnchor } from '../x509/anchor.ts';
import { certificateStands } from '../x509/binding.ts';

/** An access token as it stands now: what its relationship's *current* content still grants it. */
export interface Standing {
  /** The token's principal, its scopes cut to those the relationship grants today. */
  principal: VerifiedAccessToken;
  /** The relationship as it is now (durations and ID token audiences are judged against it). */
  trust: CompiledTrust;
}

/**
 * Judges a verified access token against its tenant and relationship as they are now (threat
 * model I1: a grant follows only from a relationship's current content). Read from the tenant's
 * cached view, so every kill switch here has the same bound, FEDBROKER_TENANT_CACHE_SECONDS:
 * - the tenant must be active, and the relationship exist and be enabled;
 * - the relationship's generation must be the token's: it changes when the relationship is
 *   deleted and recreated, or when what admits a token (issuer, audiences, conditions, subject
 *   template, session tags) changes, so a token never outlives the content that admitted it;
 * - the token's age must be within the relationship's current `max_duration_seconds`;
 * - its scopes are cut to those the relationship grants now (narrowing takes effect at once);
 * - a token obtained with a certificate (claim `x509`, lib/x509/binding.ts) stands only while the
 *   anchor that verified it exists, is enabled, still holds the CA the path ended at, and that CA's
 *   newest CRL does not list the serial; a token of an `x509` relationship without that claim never
 *   stands (threat model I8). Read from the same cached view (anchors are tenant documents), indexed
 *   once per anchor content, so no store read and a bounded cost per use;
 * - `standsUntil` says when its standing ends by that cap: ID tokens and Cognito tokens derived
 *   from it are clamped to it, so no credential outlives the grant it came from.
 * Every refusal is `SubjectTokenInvalid('revoked')`; the caller maps it to its own answer.
 */
export async function standing(deps: { directory: TenantDirectory; clock: Clock }, token: VerifiedAccessToken): Promise<Standing> {
  const view = await deps.directory.get(token.tenant);
  const trust = view.tenant?.status === 'active' ? view.trusts.find((t) => t.relationship.id === token.trust) : undefined;
  const now = Math.floor(deps.clock.now() / 1000) - CLOCK_TOLERANCE;
  if (
    !trust ||
    trust.relationship.generation !== token.generation ||
    token.iat + trust.relationship.max_duration_seconds <= now ||
    !certificateStanding(token, trust, view.anchors ?? [])
  ) {
    throw new SubjectTokenInvalid('revoked', 'the access token no longer stands');
  }
  const granted = trust.relationship.scopes;
  const scopes = token.scopes.every((s) => granted.includes(s)) ? token.scopes : token.scopes.filter((s) => granted.includes(s));
  const standsUntil = token.iat + trust.relationship.max_duration_seconds;
  return { principal: Object.freeze({ ...token, scopes: Object.freeze(scopes) as typeof scopes, standsUntil }), trust };
}

/** The certificate half of standing: a certificate-bound token follows its anchor; an `x509` relationship admits no other. */
function certificateStanding(token: VerifiedAccessToken, trust: CompiledTrust, anchors: readonly TrustAnchor[]): boolean {
  const relationship = trust.relationship;
  if (relationship.kind !== 'x509') return token.certificate === undefined;
  const binding = token.certificate;
  return binding !== undefined && relationship.trust_anchors.includes(binding.anchor) && certificateStands(token.tenant, binding, anchors);
}

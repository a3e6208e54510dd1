import type { TrustRelationship } from './schema.ts';
import { sessionTagsClaim, sourceIdentityOf } from './session-tags.ts';
import { renderSubject } from './subject.ts';

/**
 * What a relationship that admitted a token or certificate makes of its claims: the subject
 * (`<tenant>/<template>`), the session tags and the source identity, in that order. Each can refuse
 * (`SubjectTokenInvalid`: `subject`, `session_tags`, `source_identity`). The exchange, certificate
 * sessions and both explanations call this one function, so an explanation refuses where they do
 * (threat model I3).
 */
export function renderIdentity(relationship: TrustRelationship, tenant: string, claims: Record<string, unknown>) {
  return {
    sub: renderSubject(relationship.subject_template, { tenant, trust: relationship.id, claims }),
    tags: sessionTagsClaim(relationship.session_tags, claims),
    sourceIdentity: sourceIdentityOf(relationship.source_identity, claims),
  };
}

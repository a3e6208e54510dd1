import { PolicyInvalid } from '../errors.ts';
import { poolRegion } from '../cognito/pool.ts';
import { hasProtoMember } from '../proto-members.ts';
import { describeIssues } from '../zod.ts';
import { checkIssuerUrl } from '../net/issuer-url.ts';
import { compileConditions, type CompiledConditions } from './conditions.ts';
import { checkPublicIssuer } from './guard.ts';
import { trustRelationshipInputSchema, type TrustRelationshipSpec } from './schema.ts';
import { checkSessionTags } from './session-tags.ts';
import { checkSubjectTemplate } from './subject.ts';
import { CONTEXT_KEYS, CONTEXT_PREFIX } from './context.ts';

// Apart from `policy.ts` (compile → check, what every exchange runs): validation is what the
// admin API and the CLI run when a document is stored, and it brings the document's zod schema.

/**
 * Validates a relationship document once, when it is stored (parse → check). Throws
 * {@link PolicyInvalid} listing every problem; returns the normalised spec.
 */
export function validateRelationship(raw: unknown, options: { local: boolean; cognitoIssuer: string }): TrustRelationshipSpec {
  // Checked here too, not only on HTTP bodies: the CLI and the operator bootstrap validate with this.
  if (hasProtoMember(raw)) throw new PolicyInvalid(['(document): __proto__ members are not allowed']);
  const parsed = trustRelationshipInputSchema().safeParse(raw);
  if (!parsed.success) {
    throw new PolicyInvalid(describeIssues(parsed.error));
  }
  const spec = parsed.data;
  const issues: string[] = [];
  if (spec.kind === 'oidc') {
    try {
      checkIssuerUrl(spec.issuer, { local: options.local });
    } catch (e) {
      if (!(e instanceof PolicyInvalid)) throw e;
      issues.push(...e.issues.map((i) => `issuer: ${i}`));
    }
    if (spec.issuer.replace(/\/+$/, '') === options.cognitoIssuer) {
      issues.push(
        'issuer: Amazon Cognito identity pools are trusted with kind "aws-cognito", which also checks the pool and developer provider',
      );
    }
  } else if (spec.kind === 'x509') {
    if (new Set(spec.trust_anchors).size !== spec.trust_anchors.length) issues.push('trust_anchors: duplicate anchor id');
  } else if (poolRegion(spec.identity_pool_id) !== spec.region) {
    issues.push('identity_pool_id: the pool id names another region than region');
  }
  let compiled: CompiledConditions | undefined;
  try {
    compiled = compileConditions(spec.conditions);
  } catch (e) {
    if (!(e instanceof PolicyInvalid)) throw e;
    issues.push(...e.issues);
  }
  if (compiled && spec.kind === 'oidc') checkPublicIssuer(spec.issuer, compiled, issues);
  // The `fedbroker:` keys are the request context (context.ts); a misspelt one could never be present.
  for (const c of compiled?.conditions ?? []) {
    const key = c.key.replace(/^\//, '').toLowerCase();
    if (key.startsWith(CONTEXT_PREFIX) && !CONTEXT_KEYS.some((k) => k.toLowerCase() === key)) {
      issues.push(
        `conditions.${c.operator}: unknown context key ${JSON.stringify(c.key.slice(0, 64))} (known: ${CONTEXT_KEYS.join(', ')})`,
      );
    }
  }
  // Compiled as a StringLike block by compileRelationship: refused now rather than skipped then.
  try {
    compileConditions({ StringLike: { aud: spec.id_token_audiences } });
  } catch (e) {
    if (!(e instanceof PolicyInvalid)) throw e;
    issues.push(...e.issues.map((i) => i.replace(/^conditions\.StringLike\["aud"\]/, 'id_token_audiences')));
  }
  checkSubjectTemplate(spec.subject_template, issues);
  checkSessionTags(spec.session_tags, issues);
  if (new Set(spec.scopes).size !== spec.scopes.length) issues.push('scopes: duplicate scope');
  for (const aud of [...(spec.kind === 'oidc' ? spec.audiences : []), ...spec.id_token_audiences]) {
    if (/[\u0000-\u001f\u007f]/.test(aud)) issues.push('audiences: must not contain control characters');
  }
  if (issues.length) throw new PolicyInvalid(issues);
  return spec;
}

/**
 * Fields of a relationship that do not decide *who* it admits: a replace changing only these
 * keeps the relationship's generation, so tokens it issued keep working, with each use judged
 * against the current values (scopes intersected, audiences and durations as now configured).
 * Everything else, including any field added later, is admission: changing it ends the tokens.
 */
const NON_ADMISSION = new Set([
  'description',
  'scopes',
  'id_token_audiences',
  'max_duration_seconds',
  'enabled',
  // Server-managed: identity and bookkeeping, not content.
  'id',
  'tenant',
  'version',
  'generation',
  'created_at',
  'updated_at',
]);

/** What admits a token through this relationship (see `StoredDocument.generation`). */
export function relationshipAdmission(spec: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(spec).filter(([k]) => !NON_ADMISSION.has(k)));
}

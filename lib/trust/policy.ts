import { PolicyInvalid } from '../errors.ts';
import { checkIssuerUrl } from '../upstream/issuer-url.ts';
import { compileConditions, constrainedClaims, evaluateConditions, type CompiledConditions } from './conditions.ts';
import { trustRelationshipInputSchema, type TrustRelationship, type TrustRelationshipSpec } from './schema.ts';
import { checkSessionTags } from './session-tags.ts';
import { checkSubjectTemplate } from './subject.ts';

/**
 * Issuers shared by everyone on the internet. A relationship trusting one of them must pin an
 * identifying claim, or "any repository on GitHub can get in". Generic prefixes alone
 * (`repo:*`) do not count as pinning.
 */
export const PUBLIC_ISSUERS: Record<string, { name: string; identifying: string[]; genericPrefixes: string[] }> = {
  'https://token.actions.githubusercontent.com': {
    name: 'GitHub Actions',
    identifying: ['sub', 'repository', 'repository_id', 'repository_owner', 'repository_owner_id', 'job_workflow_ref'],
    genericPrefixes: ['repo:'],
  },
  'https://gitlab.com': {
    name: 'GitLab.com',
    identifying: ['sub', 'project_path', 'project_id', 'namespace_path', 'namespace_id'],
    genericPrefixes: ['project_path:'],
  },
  'https://accounts.google.com': { name: 'Google accounts', identifying: ['sub', 'email', 'hd'], genericPrefixes: [] },
  'https://cognito-identity.amazonaws.com': { name: 'Amazon Cognito', identifying: ['sub', 'aud', 'amr'], genericPrefixes: [] },
};

/** At least this many literal (non-wildcard) characters make a pattern identifying. */
const MIN_LITERAL = 6;

function isSpecific(value: unknown, genericPrefixes: string[]): boolean {
  if (typeof value !== 'string') return typeof value === 'number';
  const literal = value.replace(/[*?]/g, '');
  const prefix = value.split(/[*?]/)[0] ?? '';
  return literal.length >= MIN_LITERAL && !(value.length > prefix.length && genericPrefixes.includes(prefix));
}

function checkPublicIssuer(spec: TrustRelationshipSpec, compiled: CompiledConditions, issues: string[]): void {
  const known = PUBLIC_ISSUERS[spec.issuer.replace(/\/+$/, '')];
  if (!known) return;
  const pinned = [...constrainedClaims(compiled)].filter((claim) => known.identifying.includes(claim));
  const specific = pinned.some((claim) => {
    const values = Object.values(spec.conditions).flatMap((block) => {
      const v = (block as Record<string, unknown>)[claim];
      return v === undefined ? [] : Array.isArray(v) ? v : [v];
    });
    return values.length > 0 && values.every((v) => isSpecific(v, known.genericPrefixes));
  });
  if (!specific) {
    issues.push(
      `conditions: ${known.name} is a shared public issuer; without a StringEquals/StringLike condition pinning one of ` +
        `${known.identifying.join(', ')} to a specific value, anyone on ${known.name} could get in`,
    );
  }
}

/**
 * Validates a relationship document once, when it is stored (parse → check). Throws
 * {@link PolicyInvalid} listing every problem; returns the normalised spec.
 */
export function validateRelationship(raw: unknown, options: { local: boolean }): TrustRelationshipSpec {
  const parsed = trustRelationshipInputSchema.safeParse(raw);
  if (!parsed.success) {
    throw new PolicyInvalid(parsed.error.issues.map((i) => `${i.path.map(String).join('.') || '(document)'}: ${i.message}`));
  }
  const spec = parsed.data;
  const issues: string[] = [];
  try {
    checkIssuerUrl(spec.issuer, { local: options.local });
  } catch (e) {
    if (!(e instanceof PolicyInvalid)) throw e;
    issues.push(...e.issues.map((i) => `issuer: ${i}`));
  }
  let compiled: CompiledConditions | undefined;
  try {
    compiled = compileConditions(spec.conditions);
  } catch (e) {
    if (!(e instanceof PolicyInvalid)) throw e;
    issues.push(...e.issues);
  }
  if (compiled) checkPublicIssuer(spec, compiled, issues);
  checkSubjectTemplate(spec.subject_template, issues);
  checkSessionTags(spec.session_tags, issues);
  if (new Set(spec.scopes).size !== spec.scopes.length) issues.push('scopes: duplicate scope');
  for (const aud of [...spec.audiences, ...spec.id_token_audiences]) {
    if (/[\u0000-\u001f\u007f]/.test(aud)) issues.push('audiences: must not contain control characters');
  }
  if (issues.length) throw new PolicyInvalid(issues);
  return spec;
}

/** A stored relationship ready for cheap per-request evaluation. */
export interface CompiledTrust {
  relationship: TrustRelationship;
  conditions: CompiledConditions;
  idTokenAudiences: CompiledConditions;
}

const cache = new Map<string, CompiledTrust>();

/**
 * Compiles a stored relationship (memoised per id and version). Stored documents were validated
 * when written; a document that no longer compiles (e.g. written by an older version) throws and
 * the caller skips it — it can never match.
 */
export function compileRelationship(relationship: TrustRelationship): CompiledTrust {
  const key = `${relationship.tenant}/${relationship.id}@${relationship.version}`;
  let compiled = cache.get(key);
  if (!compiled) {
    compiled = {
      relationship,
      conditions: compileConditions(relationship.conditions),
      idTokenAudiences: compileConditions(
        relationship.id_token_audiences.length ? { StringLike: { aud: relationship.id_token_audiences } } : { Null: { aud: 'true' } },
      ),
    };
    if (cache.size > 1000) cache.clear();
    cache.set(key, compiled);
  }
  return compiled;
}

/** True when this relationship lets its tokens ask for an ID token for `audience`. */
export function allowsIdTokenAudience(trust: CompiledTrust, audience: string): boolean {
  return evaluateConditions(trust.idTokenAudiences, { aud: audience }).matched;
}

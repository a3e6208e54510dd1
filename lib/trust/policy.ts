import { createHash } from 'node:crypto';
import { PolicyInvalid } from '../errors.ts';
import { poolRegion } from '../cognito/schema.ts';
import { hasProtoMember } from '../proto-members.ts';
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

function checkPublicIssuer(spec: Extract<TrustRelationshipSpec, { kind: 'oidc' }>, compiled: CompiledConditions, issues: string[]): void {
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
export function validateRelationship(raw: unknown, options: { local: boolean; cognitoIssuer: string }): TrustRelationshipSpec {
  // Checked here too, not only on HTTP bodies: the CLI and the operator bootstrap validate with this.
  if (hasProtoMember(raw)) throw new PolicyInvalid(['(document): __proto__ members are not allowed']);
  const parsed = trustRelationshipInputSchema.safeParse(raw);
  if (!parsed.success) {
    throw new PolicyInvalid(parsed.error.issues.map((i) => `${i.path.map(String).join('.') || '(document)'}: ${i.message}`));
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
      issues.push('issuer: Amazon Cognito identity pools are trusted with kind "aws-cognito", which also checks the pool and developer provider');
    }
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
  if (compiled && spec.kind === 'oidc') checkPublicIssuer(spec, compiled, issues);
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
  'description', 'scopes', 'id_token_audiences', 'max_duration_seconds', 'enabled',
  // Server-managed: identity and bookkeeping, not content.
  'id', 'tenant', 'version', 'generation', 'created_at', 'updated_at',
]);

/** What admits a token through this relationship (see `StoredDocument.generation`). */
export function relationshipAdmission(spec: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(spec).filter(([k]) => !NON_ADMISSION.has(k)));
}

/** Deployment-wide facts a relationship is compiled against. */
export interface TrustContext {
  /** Issuer of Cognito identity pool tokens (`https://cognito-identity.amazonaws.com` in the aws partition). */
  cognitoIssuer: string;
  /** Developer provider name fedbroker expects in Cognito tokens' `amr` unless a relationship names another. */
  developerProvider: string;
}

export interface Check {
  check: string;
  matched: boolean;
  operator?: string;
  key?: string;
  seen?: unknown;
  expected?: unknown;
}

/** A stored relationship ready for cheap per-request evaluation. */
export interface CompiledTrust {
  relationship: TrustRelationship;
  /** The exact `iss` this relationship accepts. */
  issuer: string;
  /** `aud` values this relationship accepts. */
  audiences: string[];
  idTokenAudiences: CompiledConditions;
  /** Evaluates a verified token's claims: audience, kind-specific checks, then conditions. */
  evaluate(claims: Record<string, unknown>): { matched: boolean; checks: Check[] };
}

const cache = new Map<string, CompiledTrust>();
const asStrings = (v: unknown) => (typeof v === 'string' ? [v] : Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
const shorten = (v: unknown) => (typeof v === 'string' && v.length > 256 ? `${v.slice(0, 256)}…` : v);

/**
 * Cognito developer-authenticated identities (Cognito Identity developer guide, "Developer
 * authenticated identities"): `amr` = ["authenticated", "<provider>", "<provider>:<region>:<pool guid>:<user id>"].
 * fedbroker requires the developer user id to be the tenant itself.
 */
function cognitoChecks(relationship: Extract<TrustRelationship, { kind: 'aws-cognito' }>, ctx: TrustContext) {
  const provider = relationship.developer_provider ?? ctx.developerProvider;
  const login = `${provider}:${relationship.identity_pool_id}:${relationship.tenant}`;
  return (claims: Record<string, unknown>): Check[] => {
    const amr = asStrings(claims.amr);
    return [
      { check: 'amr_authenticated', matched: amr.includes('authenticated'), seen: amr.map(shorten) },
      { check: 'amr_developer_provider', matched: amr.includes(provider), expected: provider },
      { check: 'amr_developer_user', matched: amr.includes(login), expected: login },
    ];
  };
}

/**
 * Compiles a stored relationship, memoised by a hash of its whole content: a content hash never
 * names two different documents, so no cache can serve a deleted, recreated or rewritten
 * relationship's old policy (a key of id and version did, after delete and recreate). Stored
 * documents were validated when written; a document that no longer compiles throws and the
 * caller skips it — it can never match.
 */
export function compileRelationship(relationship: TrustRelationship, ctx: TrustContext): CompiledTrust {
  const key = createHash('sha256').update(JSON.stringify([ctx.cognitoIssuer, ctx.developerProvider, relationship])).digest('base64url');
  const hit = cache.get(key);
  if (hit) return hit;
  const conditions = compileConditions(relationship.conditions);
  const [issuer, audiences, kindChecks] =
    relationship.kind === 'oidc'
      ? [relationship.issuer, relationship.audiences, () => [] as Check[]]
      : [ctx.cognitoIssuer, [relationship.identity_pool_id], cognitoChecks(relationship, ctx)];
  const compiled: CompiledTrust = {
    relationship,
    issuer,
    audiences,
    idTokenAudiences: compileConditions(
      relationship.id_token_audiences.length ? { StringLike: { aud: relationship.id_token_audiences } } : { Null: { aud: 'true' } },
    ),
    evaluate(claims) {
      const aud = asStrings(claims.aud);
      const checks: Check[] = [
        { check: 'audience', matched: audiences.some((a) => aud.includes(a)), expected: audiences, seen: aud.map(shorten) },
        ...kindChecks(claims),
        ...evaluateConditions(conditions, claims).checks.map((c) => ({ check: 'condition', ...c })),
      ];
      return { matched: checks.every((c) => c.matched), checks };
    },
  };
  if (cache.size > 1000) cache.clear();
  cache.set(key, compiled);
  return compiled;
}

/** True when this relationship lets its tokens ask for an ID token for `audience`. */
export function allowsIdTokenAudience(trust: CompiledTrust, audience: string): boolean {
  return evaluateConditions(trust.idTokenAudiences, { aud: audience }).matched;
}

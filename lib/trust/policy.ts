import { createHash } from 'node:crypto';
import { PolicyInvalid } from '../errors.ts';
import { poolRegion } from '../cognito/schema.ts';
import { hasProtoMember } from '../proto-members.ts';
import { describeIssues } from '../zod.ts';
import { checkIssuerUrl } from '../net/issuer-url.ts';
import { compileConditions, type CompiledConditions } from './conditions.ts';
import { evaluateConditions, type EvaluationMode } from './evaluate.ts';
import { checkPublicIssuer } from './guard.ts';
import type { Budget } from './limits.ts';
import { trustRelationshipInputSchema, type TrustRelationship, type TrustRelationshipSpec } from './schema.ts';
import { checkSessionTags } from './session-tags.ts';
import { checkSubjectTemplate } from './subject.ts';
import { CONTEXT_KEYS, CONTEXT_PREFIX } from './context.ts';

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
  /**
   * Evaluates a verified token's claims: audience, kind-specific checks, then conditions. Condition
   * steps are charged to `budget` (one per request, shared by every candidate; checks left when it
   * runs out fail closed, see limits.ts). `all` reports every check (`:explain`); `first-failure`
   * stops at the first failed one (the exchange).
   */
  evaluate(claims: Record<string, unknown>, budget?: Budget, mode?: EvaluationMode): { matched: boolean; checks: Check[] };
}

const cache = new Map<string, CompiledTrust>();
const asStrings = (v: unknown) =>
  typeof v === 'string' ? [v] : Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
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
 * The claim naming the trust anchor that verified a certificate's path (lib/x509/session.ts sets
 * it; no certificate attribute can, since the attribute names are fixed).
 */
export const X509_ANCHOR_CLAIM = 'x509TrustAnchor';

function x509Checks(relationship: Extract<TrustRelationship, { kind: 'x509' }>) {
  return (claims: Record<string, unknown>): Check[] => {
    const anchor = claims[X509_ANCHOR_CLAIM];
    return [
      {
        check: 'trust_anchor',
        matched: typeof anchor === 'string' && relationship.trust_anchors.includes(anchor),
        expected: relationship.trust_anchors,
        seen: typeof anchor === 'string' ? anchor : undefined,
      },
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
  const key = createHash('sha256')
    .update(JSON.stringify([ctx.cognitoIssuer, ctx.developerProvider, relationship]))
    .digest('base64url');
  const hit = cache.get(key);
  if (hit) return hit;
  const conditions = compileConditions(relationship.conditions);
  // An x509 relationship has no issuer and no audience: '' is never a token's `iss` (external.ts
  // requires a non-empty one), and its one kind check is the anchor that verified the path.
  const [issuer, audiences, kindChecks] =
    relationship.kind === 'oidc'
      ? [relationship.issuer, relationship.audiences, () => [] as Check[]]
      : relationship.kind === 'x509'
        ? ['', [], x509Checks(relationship)]
        : [ctx.cognitoIssuer, [relationship.identity_pool_id], cognitoChecks(relationship, ctx)];
  const compiled: CompiledTrust = {
    relationship,
    issuer,
    audiences,
    idTokenAudiences: compileConditions(
      relationship.id_token_audiences.length ? { StringLike: { aud: relationship.id_token_audiences } } : { Null: { aud: 'true' } },
    ),
    evaluate(claims, budget, mode = 'all') {
      const aud = asStrings(claims.aud);
      const checks: Check[] = [
        ...(relationship.kind === 'x509'
          ? []
          : [{ check: 'audience', matched: audiences.some((a) => aud.includes(a)), expected: audiences, seen: aud.map(shorten) }]),
        ...kindChecks(claims),
      ];
      const failed = checks.findIndex((c) => !c.matched);
      if (mode === 'first-failure' && failed !== -1) return { matched: false, checks: checks.slice(0, failed + 1) };
      checks.push(...evaluateConditions(conditions, claims, budget, mode).checks.map((c) => ({ check: 'condition', ...c })));
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

import { createHash } from 'node:crypto';
import { compileConditions, type CompiledConditions } from './conditions.ts';
import { evaluateConditions, type EvaluationMode } from './evaluate.ts';
import type { Budget } from './limits.ts';
import type { TrustRelationship } from './schema.ts';

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

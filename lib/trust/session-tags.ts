import { SubjectTokenInvalid } from '../errors.ts';
import { readClaim } from './claims.ts';
import type { TrustRelationshipSpec } from './schema.ts';

/** The claim AWS STS reads session tags from (IAM User Guide, "Passing session tags using AssumeRoleWithWebIdentity"). */
export const AWS_TAGS_CLAIM = 'https://aws.amazon.com/tags';
const MAX_TAGS = 50;
/**
 * Tag keys starting with this (case-insensitively, as IAM compares tag keys) are fedbroker's:
 * no relationship may map one, so a role's policy can rely on them (threat model I2).
 */
const RESERVED_TAG_PREFIX = 'fedbroker:';
/**
 * The tenant, on every ID token's session tags and every Cognito PrincipalTags set, transitive so
 * it survives role chaining unchanged: ABAC on `aws:PrincipalTag/fedbroker:tenant` separates
 * tenants, which tags a tenant admin chooses never could.
 */
export const TENANT_TAG = 'fedbroker:tenant';
const TAG_VALUE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{0,256}$/u;

export interface AwsTagsClaim {
  principal_tags: Record<string, [string]>;
  transitive_tag_keys?: string[];
}

/** Store-time checks AWS would otherwise make at AssumeRole time, when it is too late to fix. */
export function checkSessionTags(tags: TrustRelationshipSpec['session_tags'], issues: string[]): void {
  const keys = Object.keys(tags);
  // One of AWS's 50 is the tenant tag.
  if (keys.length > MAX_TAGS - 1) issues.push(`session_tags: at most ${MAX_TAGS - 1} tags (the 50th is fedbroker's tenant tag)`);
  const lower = new Set<string>();
  for (const key of keys) {
    // Tag keys are case-insensitive in IAM and the aws: prefix is reserved.
    // Compared as a reader would see them: compatibility forms (full-width letters), any case and
    // spaces removed, so a look-alike of a reserved prefix is refused with it.
    const seen = key.normalize('NFKC').toLowerCase().replace(/\s+/gu, '');
    if (seen.startsWith('aws:')) issues.push(`session_tags["${key}"]: the aws: prefix is reserved`);
    if (seen.startsWith(RESERVED_TAG_PREFIX))
      issues.push(`session_tags["${key}"]: the ${RESERVED_TAG_PREFIX} prefix is reserved (fedbroker sets ${TENANT_TAG} itself)`);
    if (key.trim() !== key) issues.push(`session_tags["${key}"]: must not start or end with spaces`);
    if (lower.has(key.toLowerCase())) issues.push(`session_tags["${key}"]: duplicate key (tag keys are case-insensitive)`);
    lower.add(key.toLowerCase());
  }
}

/**
 * The session tags an ID token carries: the principal's mapped tags plus the tenant tag, which
 * comes last and is transitive, so nothing a tenant configures can replace or drop it.
 */
export function withTenantTag(tenant: string, tags: AwsTagsClaim | undefined): AwsTagsClaim {
  const transitive = (tags?.transitive_tag_keys ?? []).filter((k) => k.toLowerCase() !== TENANT_TAG);
  const principal_tags = Object.fromEntries(
    Object.entries(tags?.principal_tags ?? {}).filter(([k]) => !k.toLowerCase().startsWith(RESERVED_TAG_PREFIX)),
  );
  return { principal_tags: { ...principal_tags, [TENANT_TAG]: [tenant] }, transitive_tag_keys: [...transitive, TENANT_TAG] };
}

/**
 * Builds the session tags claim from the presented token's claims. A mapped claim that is
 * missing, not a string, or not a valid tag value refuses the exchange (fail closed): a role
 * whose policy relies on a tag must never see the tag silently dropped.
 */
export function sessionTagsClaim(tags: TrustRelationshipSpec['session_tags'], claims: Record<string, unknown>): AwsTagsClaim | undefined {
  const entries = Object.entries(tags);
  if (entries.length === 0) return undefined;
  const principal_tags: Record<string, [string]> = {};
  const transitive: string[] = [];
  for (const [key, { claim, transitive: isTransitive }] of entries) {
    const value = readClaim(claims, claim);
    const text = typeof value === 'number' || typeof value === 'boolean' ? String(value) : value;
    if (typeof text !== 'string' || !TAG_VALUE.test(text)) {
      throw new SubjectTokenInvalid('session_tags', `claim for session tag "${key}" is missing or not a valid AWS tag value`);
    }
    principal_tags[key] = [text];
    if (isTransitive) transitive.push(key);
  }
  return transitive.length ? { principal_tags, transitive_tag_keys: transitive } : { principal_tags };
}

/** The ID token claim STS reads the source identity from (IAM User Guide, "Using source identity with AssumeRoleWithWebIdentity"). */
export const AWS_SOURCE_IDENTITY_CLAIM = 'https://aws.amazon.com/source_identity';
/** STS's SourceIdentity: 2-64 of letters, digits and _ + = , . @ - (STS API reference, AssumeRole); so never "aws:…". */
const SOURCE_IDENTITY = /^[\w+=,.@-]{2,64}$/;

/**
 * The source identity a relationship maps (`source_identity.claim`), or undefined when it maps
 * none. A mapped claim that is missing or not a valid source identity refuses (fail closed): a role
 * whose trust policy requires `sts:SourceIdentity` must never see it silently dropped.
 */
export function sourceIdentityOf(mapping: TrustRelationshipSpec['source_identity'], claims: Record<string, unknown>): string | undefined {
  if (!mapping) return undefined;
  const value = readClaim(claims, mapping.claim);
  if (typeof value !== 'string' || !SOURCE_IDENTITY.test(value)) {
    throw new SubjectTokenInvalid('source_identity', 'the claim for the source identity is missing or not a valid AWS source identity');
  }
  return value;
}

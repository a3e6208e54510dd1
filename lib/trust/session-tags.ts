import { SubjectTokenInvalid } from '../errors.ts';
import { readClaim } from './claims.ts';
import type { TrustRelationshipSpec } from './schema.ts';

/** The claim AWS STS reads session tags from (IAM User Guide, "Passing session tags using AssumeRoleWithWebIdentity"). */
export const AWS_TAGS_CLAIM = 'https://aws.amazon.com/tags';
export const MAX_TAGS = 50;
const TAG_VALUE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{0,256}$/u;

export interface AwsTagsClaim {
  principal_tags: Record<string, [string]>;
  transitive_tag_keys?: string[];
}

/** Store-time checks AWS would otherwise make at AssumeRole time, when it is too late to fix. */
export function checkSessionTags(tags: TrustRelationshipSpec['session_tags'], issues: string[]): void {
  const keys = Object.keys(tags);
  if (keys.length > MAX_TAGS) issues.push(`session_tags: at most ${MAX_TAGS} tags`);
  const lower = new Set<string>();
  for (const key of keys) {
    // Tag keys are case-insensitive in IAM and the aws: prefix is reserved.
    if (key.toLowerCase().startsWith('aws:')) issues.push(`session_tags["${key}"]: the aws: prefix is reserved`);
    if (lower.has(key.toLowerCase())) issues.push(`session_tags["${key}"]: duplicate key (tag keys are case-insensitive)`);
    lower.add(key.toLowerCase());
  }
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

import * as z from '../zod.ts';
import { SCOPES } from '../tenants/tenant.ts';
import { RELATIONSHIP_ID } from './relationship-id.ts';
import { AWS_REGION, DEVELOPER_PROVIDER, IDENTITY_POOL_ID } from '../cognito/pool.ts';

/**
 * The one declaration of the trust relationship document: the admin API validates request
 * bodies with it, the CLI validates files with it, and `schemas/trust-relationship.schema.json`
 * is generated from it (`npm run schemas`). Semantic checks (issuer URL safety, conditions,
 * identifying claims) follow in `policy.ts`.
 */

/** AWS session tag key rules (IAM User Guide, "Passing session tags in AWS STS"). */
const TAG_KEY = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$/u;

/** The relationship document's schema, built on first use (see `lazySchema`). */
export const trustRelationshipInputSchema = z.lazySchema(() => {
  const claimPath = z
    .string()
    .check(
      z.minLength(1),
      z.maxLength(256),
      z.describe('Claim to read: dotted path (`kubernetes.io.namespace`) or JSON Pointer (`/kubernetes.io/namespace`)'),
    );

  const sessionTagSchema = z.strictObject({
    claim: claimPath,
    transitive: z._default(z.boolean(), false).check(z.describe('Listed in transitive_tag_keys, so it survives role chaining')),
  });

  const common = {
    id: z
      .optional(z.string().check(z.regex(RELATIONSHIP_ID, 'lower-case letters, digits and dashes, at most 63')))
      .check(z.describe('Assigned by the server when omitted')),
    description: z.optional(z.string().check(z.maxLength(512))),
    conditions: z
      ._default(z.record(z.string(), z.unknown()), {})
      .check(z.describe('IAM condition block over the presented token’s claims: { "<Operator>": { "<claim>": value | [values] } }')),
    scopes: z
      .array(z.enum(SCOPES))
      .check(z.minLength(1), z.maxLength(SCOPES.length), z.describe('Scopes a token obtained through this relationship may carry')),
    id_token_audiences: z
      ._default(z.array(z.string().check(z.minLength(1), z.maxLength(256))).check(z.maxLength(20)), ['sts.amazonaws.com'])
      .check(
        z.describe('Audiences fedbroker may issue ID tokens for through this relationship (exact, or StringLike patterns with * and ?)'),
      ),
    max_duration_seconds: z
      ._default(z.number().check(z.int(), z.gte(60), z.lte(43200)), 3600)
      .check(z.describe('Longest lifetime of a token granted through this relationship')),
    subject_template: z
      ._default(z.string().check(z.minLength(1), z.maxLength(255)), '{trust}/{claims.sub}')
      .check(z.describe('Rendered after `<tenant>/`; placeholders {trust}, {tenant}, {claims.<path>}')),
    session_tags: z
      ._default(
        z.record(
          z.string().check(z.regex(TAG_KEY, 'AWS tag keys: 1-128 of letters, digits, spaces and _ . : / = + - @')),
          sessionTagSchema,
        ),
        {},
      )
      .check(z.describe('AWS session tags: tag key → claim')),
    source_identity: z
      .optional(z.strictObject({ claim: claimPath }))
      .check(
        z.describe(
          'Claim whose value becomes the AWS source identity (https://aws.amazon.com/source_identity in ID tokens); e.g. x509Subject/CN',
        ),
      ),
    enabled: z._default(z.boolean(), true),
  };

  const oidcRelationshipSchema = z.strictObject({
    kind: z.literal('oidc'),
    issuer: z.string().check(z.minLength(1), z.maxLength(512), z.describe('Exact issuer URL (https)')),
    audiences: z
      .array(z.string().check(z.minLength(1), z.maxLength(256)))
      .check(
        z.minLength(1, 'at least one audience is required'),
        z.maxLength(10),
        z.describe('The presented token’s `aud` must contain one of these'),
      ),
    ...common,
  });

  /**
   * Trust in an Amazon Cognito identity pool for which the workload is authenticated through
   * fedbroker's developer provider: the token's `aud` is the pool and its `amr` names the provider
   * and this tenant as the developer user id.
   */
  const cognitoRelationshipSchema = z.strictObject({
    kind: z.literal('aws-cognito'),
    region: z.string().check(z.regex(AWS_REGION, 'must be an AWS region such as us-east-1')),
    identity_pool_id: z.string().check(z.regex(IDENTITY_POOL_ID, 'must be <region>:<guid>')),
    developer_provider: z
      .optional(z.string().check(z.regex(DEVELOPER_PROVIDER, '1-128 of letters, digits, _ . -')))
      .check(z.describe('Developer provider name in the token’s amr; defaults to the deployment’s (fedbroker)')),
    ...common,
  });

  /**
   * Trust in X.509 certificates that chain to one of the tenant's trust anchors (docs/x509.md). The
   * certificate's attributes are the claims conditions see, named as IAM Roles Anywhere names them
   * (`x509Subject/CN`, `x509SAN/URI`, …).
   */
  const x509RelationshipSchema = z.strictObject({
    kind: z.literal('x509'),
    trust_anchors: z
      .array(z.string().check(z.regex(RELATIONSHIP_ID, 'lower-case letters, digits and dashes, at most 63')))
      .check(z.minLength(1), z.maxLength(5), z.describe('Ids of the tenant’s trust anchors a certificate must chain to (any of them)')),
    ...common,
    subject_template: z
      ._default(z.string().check(z.minLength(1), z.maxLength(255)), '{trust}/{claims.x509Subject/CN}')
      .check(
        z.describe('Rendered after `<tenant>/`; placeholders {trust}, {tenant}, {claims.<attribute>} such as {claims.x509Subject/CN}'),
      ),
  });

  return z.discriminatedUnion('kind', [oidcRelationshipSchema, cognitoRelationshipSchema, x509RelationshipSchema]);
});
export type TrustRelationshipInput = z.input<ReturnType<typeof trustRelationshipInputSchema>>;
export type TrustRelationshipSpec = z.output<ReturnType<typeof trustRelationshipInputSchema>>;

/** A stored relationship: the validated spec plus server-managed fields. */
export type TrustRelationship = TrustRelationshipSpec & {
  id: string;
  tenant: string;
  version: number;
  /** Set on create, replaced when what admits a token changes; access tokens carry it (`trust_gen`). */
  generation: string;
  created_at: string;
  updated_at: string;
};

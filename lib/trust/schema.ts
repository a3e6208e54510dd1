import { z } from 'zod';
import { AWS_REGION, DEVELOPER_PROVIDER, IDENTITY_POOL_ID } from '../cognito/schema.ts';

/**
 * The one declaration of the trust relationship document: the admin API validates request
 * bodies with it, the CLI validates files with it, and `schemas/trust-relationship.schema.json`
 * is generated from it (`npm run schemas`). Semantic checks (issuer URL safety, conditions,
 * identifying claims) follow in `policy.ts`.
 */

export const TENANT_ID = /^[a-z0-9][a-z0-9-]{2,62}$/;
export const RELATIONSHIP_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** Scopes a relationship may grant. Unknown scopes are refused, never ignored. */
export const SCOPES = ['id-token:issue', 'trust:admin', 'aws:cognito', 'audit:read'] as const;
export type Scope = (typeof SCOPES)[number];

/** AWS session tag key rules (IAM User Guide, "Passing session tags in AWS STS"). */
export const TAG_KEY = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$/u;

const claimPath = z
  .string()
  .min(1)
  .max(256)
  .describe('Claim to read: dotted path (`kubernetes.io.namespace`) or JSON Pointer (`/kubernetes.io/namespace`)');

export const sessionTagSchema = z.strictObject({
  claim: claimPath,
  transitive: z.boolean().default(false).describe('Listed in transitive_tag_keys, so it survives role chaining'),
});

const common = {
  id: z.string().regex(RELATIONSHIP_ID, 'lower-case letters, digits and dashes, at most 63').optional().describe('Assigned by the server when omitted'),
  description: z.string().max(512).optional(),
  conditions: z
    .record(z.string(), z.unknown())
    .default({})
    .describe('IAM condition block over the presented token’s claims: { "<Operator>": { "<claim>": value | [values] } }'),
  scopes: z.array(z.enum(SCOPES)).min(1).max(SCOPES.length).describe('Scopes a token obtained through this relationship may carry'),
  id_token_audiences: z
    .array(z.string().min(1).max(256))
    .max(20)
    .default(['sts.amazonaws.com'])
    .describe('Audiences fedbroker may issue ID tokens for through this relationship (exact, or StringLike patterns with * and ?)'),
  max_duration_seconds: z.number().int().min(60).max(43200).default(3600).describe('Longest lifetime of a token granted through this relationship'),
  subject_template: z
    .string()
    .min(1)
    .max(255)
    .default('{trust}/{claims.sub}')
    .describe('Rendered after `<tenant>/`; placeholders {trust}, {tenant}, {claims.<path>}'),
  session_tags: z
    .record(z.string().regex(TAG_KEY, 'AWS tag keys: 1-128 of letters, digits, spaces and _ . : / = + - @'), sessionTagSchema)
    .default({})
    .describe('AWS session tags: tag key → claim'),
  enabled: z.boolean().default(true),
};

export const oidcRelationshipSchema = z.strictObject({
  kind: z.literal('oidc'),
  issuer: z.string().min(1).max(512).describe('Exact issuer URL (https)'),
  audiences: z
    .array(z.string().min(1).max(256))
    .min(1, 'at least one audience is required')
    .max(10)
    .describe('The presented token’s `aud` must contain one of these'),
  ...common,
});

/**
 * Trust in an Amazon Cognito identity pool for which the workload is authenticated through
 * fedbroker's developer provider: the token's `aud` is the pool and its `amr` names the provider
 * and this tenant as the developer user id.
 */
export const cognitoRelationshipSchema = z.strictObject({
  kind: z.literal('aws-cognito'),
  region: z.string().regex(AWS_REGION, 'must be an AWS region such as us-east-1'),
  identity_pool_id: z.string().regex(IDENTITY_POOL_ID, 'must be <region>:<guid>'),
  developer_provider: z
    .string()
    .regex(DEVELOPER_PROVIDER, '1-128 of letters, digits, _ . -')
    .optional()
    .describe('Developer provider name in the token’s amr; defaults to the deployment’s (fedbroker)'),
  ...common,
});

export const trustRelationshipInputSchema = z.discriminatedUnion('kind', [oidcRelationshipSchema, cognitoRelationshipSchema]);
export type TrustRelationshipInput = z.input<typeof trustRelationshipInputSchema>;
export type TrustRelationshipSpec = z.output<typeof trustRelationshipInputSchema>;

/** A stored relationship: the validated spec plus server-managed fields. */
export type TrustRelationship = TrustRelationshipSpec & {
  id: string;
  tenant: string;
  version: number;
  created_at: string;
  updated_at: string;
};

export const tenantSchema = z.strictObject({
  id: z.string().regex(TENANT_ID, '3-63 of lower-case letters, digits and dashes, starting with a letter or digit'),
  name: z.string().min(1).max(128),
  status: z.enum(['active', 'disabled']),
});
export type Tenant = z.output<typeof tenantSchema> & { version: number; created_at: string; updated_at: string };

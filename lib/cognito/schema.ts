import * as z from '../zod.ts';
import { DEVELOPER_PROVIDER, IDENTITY_POOL_ID, ROLE_ARN } from './pool.ts';

/**
 * An outbound identity pool for which fedbroker is the developer provider: the broker calls
 * `GetOpenIdTokenForDeveloperIdentity` on it for the tenant's principals.
 */
export const cognitoPoolInputSchema = z.lazySchema(() =>
  z.pipe(
    z.strictObject({
      identity_pool_id: z.string().check(z.regex(IDENTITY_POOL_ID, 'must be <region>:<guid>')),
      developer_provider: z
        .optional(z.string().check(z.regex(DEVELOPER_PROVIDER, '1-128 of letters, digits, _ . -')))
        .check(z.describe('Defaults to the deployment’s developer provider name')),
      max_duration_seconds: z
        ._default(z.number().check(z.int(), z.gte(60), z.lte(86400)), 900)
        .check(z.describe('Cap on TokenDuration (Cognito allows up to 24 h)')),
      principal_tags: z._default(z.boolean(), false).check(z.describe('Pass the principal’s session tags as PrincipalTags')),
      enabled: z._default(z.boolean(), true),
      role_arn: z
        .optional(z.string().check(z.regex(ROLE_ARN, 'must be an IAM role ARN')))
        .check(z.describe('Role fedbroker assumes (sts:AssumeRole) to reach a pool in another account')),
    }),
    z.transform((pool) => ({ ...pool, id: pool.identity_pool_id })),
  ),
);

type CognitoPoolSpec = z.output<ReturnType<typeof cognitoPoolInputSchema>>;
export type CognitoPool = CognitoPoolSpec & { tenant: string; version: number; generation: string; created_at: string; updated_at: string };

// The identifiers of Cognito identity pools and the roles that reach them: plain patterns, kept
// apart from the pool document's schema (schema.ts) so the functions that only check an id or
// read a region do not bundle zod.

/** `<region>:<guid>` (Cognito Identity API reference, IdentityPoolId pattern). */
export const IDENTITY_POOL_ID = /^([a-z]{2}(?:-gov)?-[a-z]+-\d):[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const AWS_REGION = /^[a-z]{2}(?:-gov)?-[a-z]+-\d$/;
/** DeveloperProviderName: 1–128 of `[\w._-]` (Cognito Identity API reference). */
export const DEVELOPER_PROVIDER = /^[\w._-]{1,128}$/;
/** An IAM role ARN in any partition (IAM API reference, Role ARN and path constraints). */
export const ROLE_ARN = /^arn:aws(?:-[a-z]+)*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;

/** The region a pool id names. */
export function poolRegion(poolId: string): string {
  return poolId.slice(0, poolId.indexOf(':'));
}

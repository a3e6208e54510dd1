import { InvalidArgumentError } from 'commander';
import { AWS_REGION, DEVELOPER_PROVIDER, IDENTITY_POOL_ID, poolRegion } from '../lib/cognito/pool.ts';
import { AWS_CLIENT_DEFAULTS, awsFailure } from './aws-sdk.ts';
import { CliError, usageError } from './errors.ts';
import type { Renewal } from './token-file.ts';

/** Where and how a workload signs in through a Cognito identity pool (kept with the token, to renew it). */
export type CognitoSignIn = Extract<Renewal, { kind: 'aws-cognito' }>;

/** The developer provider name fedbroker deployments use unless configured otherwise. */
export const DEFAULT_PROVIDER = 'fedbroker';
/** The Logins key under which GetCredentialsForIdentity accepts a token Cognito itself issued. */
export const COGNITO_LOGIN = 'cognito-identity.amazonaws.com';

export function poolArgument(text: string): string {
  if (!IDENTITY_POOL_ID.test(text)) throw new InvalidArgumentError('an identity pool id is <region>:<guid>, e.g. eu-west-1:0f1e…');
  return text;
}

export function regionArgument(text: string): string {
  if (!AWS_REGION.test(text)) throw new InvalidArgumentError('an AWS region, e.g. eu-west-1');
  return text;
}

export function providerArgument(text: string): string {
  if (!DEVELOPER_PROVIDER.test(text)) throw new InvalidArgumentError('a developer provider name is 1-128 of letters, digits and _ . -');
  return text;
}

/** The pool id names its region; a different --aws-region is a typo that AWS would answer confusingly. */
export function checkRegion(region: string, pool: string): void {
  if (poolRegion(pool) !== region) throw usageError(`identity pool ${pool} is in ${poolRegion(pool)}, not --aws-region ${region}`);
}

/**
 * With the workload's own AWS credentials, a Cognito OpenID token whose developer user id is the
 * tenant (Logins: { <provider>: <tenant> }). GetOpenIdTokenForDeveloperIdentity creates or finds
 * the identity itself, so no GetId call is needed.
 */
export async function cognitoOpenIdToken(opts: CognitoSignIn, tenant: string): Promise<string> {
  const { CognitoIdentityClient, GetOpenIdTokenForDeveloperIdentityCommand } = await import('@aws-sdk/client-cognito-identity');
  // `profile` makes the SDK's default chain read that profile (and skip environment keys).
  const client = new CognitoIdentityClient({
    region: opts.aws_region,
    ...AWS_CLIENT_DEFAULTS,
    ...(opts.aws_profile !== undefined ? { profile: opts.aws_profile } : {}),
  });
  try {
    const out = await client.send(
      new GetOpenIdTokenForDeveloperIdentityCommand({
        IdentityPoolId: opts.identity_pool,
        Logins: { [opts.developer_provider]: tenant },
      }),
    );
    if (!out.Token) throw new CliError('invalid_response', 'Cognito answered without a token');
    return out.Token;
  } catch (e) {
    throw awsFailure(
      e,
      `Cognito GetOpenIdTokenForDeveloperIdentity on ${opts.identity_pool}` +
        (opts.aws_profile !== undefined ? ` (profile ${opts.aws_profile})` : ''),
    );
  } finally {
    client.destroy();
  }
}

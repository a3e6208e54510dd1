import { InvalidArgumentError } from 'commander';
import { AWS_REGION, DEVELOPER_PROVIDER, IDENTITY_POOL_ID, poolRegion } from '../lib/cognito/schema.ts';
import { usageError } from './errors.ts';

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

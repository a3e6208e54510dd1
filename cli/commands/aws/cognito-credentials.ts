import { type Command, Option } from 'commander';
import { API_ROUTES } from '../../../lib/api-paths.ts';
import { poolRegion } from '../../../lib/cognito/pool.ts';
import {
  type AwsCredentials,
  completeCredentials,
  credentialExports,
  credentialProcessJson,
  isoSeconds,
  writeEnvFile,
} from '../../aws-credentials.ts';
import { AWS_CLIENT_DEFAULTS, awsFailure } from '../../aws-sdk.ts';
import { COGNITO_LOGIN, poolArgument } from '../../cognito.ts';
import { storedTokenFor } from '../../context.ts';
import { CliError, usageError } from '../../errors.ts';
import { callBroker } from '../../http.ts';
import { durationFlag } from '../../options.ts';
import { notice } from '../../output.ts';
import { JSON_TYPE } from '../../tenant-documents.ts';

interface CredentialsOptions {
  identityPool: string;
  duration?: number;
  writeEnv?: string;
  output: 'env' | 'json';
}

/**
 * `aws cognito-credentials`: fedbroker vends a Cognito token for the stored token's principal
 * (scope aws:cognito), which Cognito trades for the pool's role credentials. GetCredentialsForIdentity
 * is unsigned (no AWS credentials needed); the region is the pool's.
 */
async function cognitoCredentials(opts: CredentialsOptions, cmd: Command): Promise<void> {
  if (opts.writeEnv !== undefined && opts.output === 'json') throw usageError('give at most one of --write-env and -o json');
  const stored = await storedTokenFor(cmd);
  const res = await callBroker(stored.endpoint, API_ROUTES.cognitoIdentityToken, {
    method: 'POST',
    headers: { Authorization: `Bearer ${stored.access_token}`, ...JSON_TYPE },
    body: JSON.stringify({
      identity_pool_id: opts.identityPool,
      ...(opts.duration !== undefined ? { duration_seconds: opts.duration } : {}),
    }),
  });
  const vended = res.body as { identity_id?: unknown; token?: unknown } | undefined;
  if (typeof vended?.identity_id !== 'string' || typeof vended.token !== 'string')
    throw new CliError('invalid_response', `${stored.endpoint} vended no Cognito token`);

  const { CognitoIdentityClient, GetCredentialsForIdentityCommand } = await import('@aws-sdk/client-cognito-identity');
  const client = new CognitoIdentityClient({ region: poolRegion(opts.identityPool), ...AWS_CLIENT_DEFAULTS });
  let credentials: AwsCredentials;
  try {
    const out = await client.send(
      new GetCredentialsForIdentityCommand({ IdentityId: vended.identity_id, Logins: { [COGNITO_LOGIN]: vended.token } }),
    );
    credentials = completeCredentials(out.Credentials ?? {}, 'Cognito');
  } catch (e) {
    throw awsFailure(e, `Cognito GetCredentialsForIdentity for ${vended.identity_id} in ${opts.identityPool}`);
  } finally {
    client.destroy();
  }
  if (opts.output === 'json') return void process.stdout.write(credentialProcessJson(credentials));
  const until = isoSeconds(credentials.expiration);
  const summary = `credentials of identity ${vended.identity_id} in ${opts.identityPool}, valid until ${until}`;
  if (opts.writeEnv === undefined) {
    process.stdout.write(credentialExports(credentials));
    return notice(summary);
  }
  await writeEnvFile(opts.writeEnv, credentialExports(credentials));
  notice(`wrote ${opts.writeEnv} (load it with: . ${opts.writeEnv}): ${summary}`);
}

/** `fedbroker aws cognito-credentials`. */
export function registerCognitoCredentials(aws: Command): void {
  aws
    .command('cognito-credentials')
    .description("AWS credentials of a Cognito identity pool's role, fedbroker as developer provider (needs the aws:cognito scope)")
    .requiredOption('--identity-pool <id>', 'identity pool id, <region>:<guid> (configured for the tenant)', poolArgument)
    .addOption(durationFlag("lifetime of the Cognito token to ask for (the credentials' own lifetime is the pool role's)"))
    .option('--write-env <file>', 'write the export lines to this file (0600) instead of stdout')
    .addOption(
      new Option('-o, --output <format>', 'env: export lines; json: the credential_process JSON').choices(['env', 'json']).default('env'),
    )
    .action(cognitoCredentials);
}

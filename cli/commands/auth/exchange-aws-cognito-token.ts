import { type Command, Option } from 'commander';
import { AWS_CLIENT_DEFAULTS, awsFailure } from '../../aws-sdk.ts';
import { checkRegion, DEFAULT_PROVIDER, poolArgument, providerArgument, regionArgument } from '../../cognito.ts';
import { endpointOf } from '../../context.ts';
import { CliError } from '../../errors.ts';
import { durationFlag, ensureOption, scopeOption, tenantOption } from '../../options.ts';
import { type OutputFormat, outputOption } from '../../output.ts';
import { parseScopes, signIn, storedTokenSuffices } from '../../sign-in.ts';

interface ExchangeCognitoOptions {
  awsRegion: string;
  identityPool: string;
  tenant: string;
  awsProfile?: string;
  developerProvider: string;
  scope?: string;
  duration?: number;
  ensure?: number;
  output: OutputFormat;
}

/**
 * With the workload's own AWS credentials, a Cognito OpenID token whose developer user id is the
 * tenant (Logins: { <provider>: <tenant> }). GetOpenIdTokenForDeveloperIdentity creates or finds
 * the identity itself, so no GetId call is needed.
 */
async function cognitoOpenIdToken(opts: ExchangeCognitoOptions): Promise<string> {
  const { CognitoIdentityClient, GetOpenIdTokenForDeveloperIdentityCommand } = await import('@aws-sdk/client-cognito-identity');
  // `profile` makes the SDK's default chain read that profile (and skip environment keys).
  const client = new CognitoIdentityClient({
    region: opts.awsRegion,
    ...AWS_CLIENT_DEFAULTS,
    ...(opts.awsProfile !== undefined ? { profile: opts.awsProfile } : {}),
  });
  try {
    const out = await client.send(
      new GetOpenIdTokenForDeveloperIdentityCommand({
        IdentityPoolId: opts.identityPool,
        Logins: { [opts.developerProvider]: opts.tenant },
      }),
    );
    if (!out.Token) throw new CliError('invalid_response', 'Cognito answered without a token');
    return out.Token;
  } catch (e) {
    throw awsFailure(
      e,
      `Cognito GetOpenIdTokenForDeveloperIdentity on ${opts.identityPool}${opts.awsProfile !== undefined ? ` (profile ${opts.awsProfile})` : ''}`,
    );
  } finally {
    client.destroy();
  }
}

async function exchangeCognitoToken(opts: ExchangeCognitoOptions, cmd: Command): Promise<void> {
  checkRegion(opts.awsRegion, opts.identityPool);
  const { endpoint } = endpointOf(cmd);
  const want = { endpoint, tenant: opts.tenant, scopes: parseScopes(opts.scope), duration: opts.duration, output: opts.output };
  if (await storedTokenSuffices(want, opts.ensure)) return;
  await signIn(want, await cognitoOpenIdToken(opts));
}

/** `auth exchange-aws-cognito-token`: sign in from AWS through a Cognito identity pool. */
export function registerExchangeAwsCognitoToken(auth: Command): void {
  auth
    .command('exchange-aws-cognito-token')
    .description(
      "sign in from AWS: get a Cognito token for the tenant with this workload's AWS credentials and exchange it; stored like exchange-oidc-token",
    )
    .requiredOption('--aws-region <region>', 'region of the identity pool', regionArgument)
    .requiredOption('--identity-pool <id>', 'identity pool id, <region>:<guid>', poolArgument)
    .addOption(tenantOption('tenant to sign in to (the developer user id in the Cognito login)'))
    .option('--aws-profile <name>', 'AWS profile to call Cognito with (default: the SDK default credential chain)')
    .addOption(
      new Option('--developer-provider <name>', 'developer provider name of the pool')
        .argParser(providerArgument)
        .default(DEFAULT_PROVIDER),
    )
    .addOption(scopeOption())
    .addOption(durationFlag())
    .addOption(ensureOption())
    .addOption(outputOption(['plain', 'json'], 'plain'))
    .action(exchangeCognitoToken);
}

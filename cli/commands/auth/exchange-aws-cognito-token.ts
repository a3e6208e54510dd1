import { type Command, Option } from 'commander';
import { checkRegion, cognitoOpenIdToken, DEFAULT_PROVIDER, poolArgument, providerArgument, regionArgument } from '../../cognito.ts';
import { signInEndpoint } from '../../context.ts';
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

async function exchangeCognitoToken(opts: ExchangeCognitoOptions, cmd: Command): Promise<void> {
  checkRegion(opts.awsRegion, opts.identityPool);
  const endpoint = await signInEndpoint(cmd);
  const renew = {
    kind: 'aws-cognito' as const,
    aws_region: opts.awsRegion,
    identity_pool: opts.identityPool,
    developer_provider: opts.developerProvider,
    ...(opts.awsProfile !== undefined ? { aws_profile: opts.awsProfile } : {}),
  };
  const want = { endpoint, tenant: opts.tenant, scopes: parseScopes(opts.scope), duration: opts.duration, output: opts.output, renew };
  if (await storedTokenSuffices(want, opts.ensure)) return;
  await signIn(want, await cognitoOpenIdToken(renew, opts.tenant));
}

/** `auth exchange-aws-cognito-token`: sign in from AWS through a Cognito identity pool. */
export function registerExchangeAwsCognitoToken(auth: Command): void {
  auth
    .command('exchange-aws-cognito-token')
    .description(
      "sign in from AWS: get a Cognito token for the tenant with this workload's AWS credentials " +
        'and exchange it; stored like exchange-oidc-token',
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

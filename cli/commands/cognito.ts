import { InvalidArgumentError, Option, type Command } from 'commander';
import { AWS_REGION, DEVELOPER_PROVIDER, IDENTITY_POOL_ID, poolRegion } from '../../lib/cognito/schema.ts';
import { SCOPES } from '../../lib/tenants/tenant.ts';
import { trustRelationshipInputSchema, type TrustRelationship } from '../../lib/trust/schema.ts';
import {
  completeCredentials,
  credentialExports,
  credentialProcessJson,
  isoSeconds,
  writeEnvFile,
  type AwsCredentials,
} from '../aws-credentials.ts';
import { AWS_CLIENT_DEFAULTS, awsFailure } from '../aws-sdk.ts';
import { endpointOf, storedTokenFor, tenantArgument } from '../context.ts';
import { durationOption } from '../duration.ts';
import { CliError, usageError } from '../errors.ts';
import { callBroker } from '../http.ts';
import { notice, outputOption, printJson, type OutputFormat } from '../output.ts';
import { parseScopes, signIn, storedTokenSuffices } from '../sign-in.ts';
import { JSON_TYPE, tenantApi, TRUST_RELATIONSHIPS, validateDocument } from '../tenant-documents.ts';
import { registerCognitoPools } from './cognito-identity-pools.ts';

/** The developer provider name fedbroker deployments use unless configured otherwise. */
const DEFAULT_PROVIDER = 'fedbroker';
/** The Logins key under which GetCredentialsForIdentity accepts a token Cognito itself issued. */
const COGNITO_LOGIN = 'cognito-identity.amazonaws.com';

export function poolArgument(text: string): string {
  if (!IDENTITY_POOL_ID.test(text)) throw new InvalidArgumentError('an identity pool id is <region>:<guid>, e.g. eu-west-1:0f1e…');
  return text;
}

function regionArgument(text: string): string {
  if (!AWS_REGION.test(text)) throw new InvalidArgumentError('an AWS region, e.g. eu-west-1');
  return text;
}

function providerArgument(text: string): string {
  if (!DEVELOPER_PROVIDER.test(text)) throw new InvalidArgumentError('a developer provider name is 1-128 of letters, digits and _ . -');
  return text;
}

/** Repeatable `--scope`; each value may itself list scopes separated by spaces or commas. */
const collect = (value: string, previous: string[] = []) => [...previous, value];

/** The pool id names its region; a different --aws-region is a typo that AWS would answer confusingly. */
function checkRegion(region: string, pool: string): void {
  if (poolRegion(pool) !== region) throw usageError(`identity pool ${pool} is in ${poolRegion(pool)}, not --aws-region ${region}`);
}

interface TrustOptions {
  awsRegion: string;
  identityPool: string;
  tenant: string;
  id?: string;
  scope?: string[];
  developerProvider?: string;
  output: OutputFormat;
}

/** `auth trust-aws-cognito-identity-pool`: a kind "aws-cognito" relationship, through the admin API. */
async function trustPool(opts: TrustOptions, cmd: Command): Promise<void> {
  checkRegion(opts.awsRegion, opts.identityPool);
  const document = {
    kind: 'aws-cognito',
    ...(opts.id !== undefined ? { id: opts.id } : {}),
    region: opts.awsRegion,
    identity_pool_id: opts.identityPool,
    scopes: parseScopes(opts.scope?.join(' ')) ?? ['id-token:issue'],
    ...(opts.developerProvider !== undefined ? { developer_provider: opts.developerProvider } : {}),
  };
  validateDocument(document, trustRelationshipInputSchema, 'the relationship built from the options', 'trust relationship');
  // storedTokenFor (inside) refuses before any request when the stored token is another tenant's.
  const res = await tenantApi(cmd, { tenant: opts.tenant }, TRUST_RELATIONSHIPS, {
    method: 'POST',
    headers: JSON_TYPE,
    body: JSON.stringify(document),
  });
  const r = res.body as TrustRelationship;
  notice(
    `created trust relationship ${r.id} (version ${r.version}): tenant ${opts.tenant} admits identities of ${opts.identityPool} (developer provider ${opts.developerProvider ?? 'of the deployment'})`,
  );
  if (opts.output === 'json') printJson(r);
}

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

/** `auth trust-aws-cognito-identity-pool`, `auth exchange-aws-cognito-token`, `auth cognito-identity-pools`. */
export function registerCognitoAuth(auth: Command): void {
  auth
    .command('trust-aws-cognito-identity-pool')
    .description(
      'let workloads authenticated by a Cognito identity pool (fedbroker as developer provider) sign in to a tenant (needs trust:admin)',
    )
    .requiredOption('--aws-region <region>', 'region of the identity pool', regionArgument)
    .requiredOption('--identity-pool <id>', 'identity pool id, <region>:<guid>', poolArgument)
    .requiredOption('--tenant <tenant>', 'the tenant to trust the pool (the stored token must be its admin)', tenantArgument)
    .option('--id <id>', 'relationship id (default: assigned by the server)')
    .option(
      '--scope <scopes>',
      `scopes granted, repeatable, space or comma separated (${SCOPES.join(', ')}; default id-token:issue)`,
      collect,
    )
    .option(
      '--developer-provider <name>',
      "developer provider name in the tokens' amr (default: the deployment's, fedbroker)",
      providerArgument,
    )
    .addOption(outputOption(['plain', 'json'], 'plain'))
    .action(trustPool);

  auth
    .command('exchange-aws-cognito-token')
    .description(
      "sign in from AWS: get a Cognito token for the tenant with this workload's AWS credentials and exchange it; stored like exchange-oidc-token",
    )
    .requiredOption('--aws-region <region>', 'region of the identity pool', regionArgument)
    .requiredOption('--identity-pool <id>', 'identity pool id, <region>:<guid>', poolArgument)
    .requiredOption('--tenant <tenant>', 'tenant to sign in to (the developer user id in the Cognito login)', tenantArgument)
    .option('--aws-profile <name>', 'AWS profile to call Cognito with (default: the SDK default credential chain)')
    .addOption(
      new Option('--developer-provider <name>', 'developer provider name of the pool')
        .argParser(providerArgument)
        .default(DEFAULT_PROVIDER),
    )
    .option('--scope <scopes>', `scopes to ask for, space or comma separated (${SCOPES.join(', ')})`)
    .option('--duration <duration>', 'lifetime to ask for, e.g. 15m or 1h', durationOption)
    .option(
      '--ensure <duration>',
      'do nothing when the stored token is for this endpoint and tenant and valid at least this long',
      durationOption,
    )
    .addOption(outputOption(['plain', 'json'], 'plain'))
    .action(exchangeCognitoToken);

  registerCognitoPools(auth);
}

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
  const res = await callBroker(stored.endpoint, '/v1/aws/cognito-identity-token', {
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
  const summary = `credentials of identity ${vended.identity_id} in ${opts.identityPool}, valid until ${isoSeconds(credentials.expiration)}`;
  if (opts.writeEnv === undefined) {
    process.stdout.write(credentialExports(credentials));
    return notice(summary);
  }
  await writeEnvFile(opts.writeEnv, credentialExports(credentials));
  notice(`wrote ${opts.writeEnv} (load it with: . ${opts.writeEnv}): ${summary}`);
}

export function registerCognitoCredentials(aws: Command): void {
  aws
    .command('cognito-credentials')
    .description("AWS credentials of a Cognito identity pool's role, fedbroker as developer provider (needs the aws:cognito scope)")
    .requiredOption('--identity-pool <id>', 'identity pool id, <region>:<guid> (configured for the tenant)', poolArgument)
    .option(
      '--duration <duration>',
      "lifetime of the Cognito token to ask for (the credentials' own lifetime is the pool role's)",
      durationOption,
    )
    .option('--write-env <file>', 'write the export lines to this file (0600) instead of stdout')
    .addOption(
      new Option('-o, --output <format>', 'env: export lines; json: the credential_process JSON').choices(['env', 'json']).default('env'),
    )
    .action(cognitoCredentials);
}

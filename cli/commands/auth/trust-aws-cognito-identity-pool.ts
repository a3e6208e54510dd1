import type { Command } from 'commander';
import { API_ROUTES } from '../../../lib/api-paths.ts';
import { SCOPES } from '../../../lib/tenants/tenant.ts';
import { type TrustRelationship, trustRelationshipInputSchema } from '../../../lib/trust/schema.ts';
import { checkRegion, poolArgument, providerArgument, regionArgument } from '../../cognito.ts';
import { tenantOption } from '../../options.ts';
import { notice, type OutputFormat, outputOption, printJson } from '../../output.ts';
import { parseScopes } from '../../sign-in.ts';
import { JSON_TYPE, tenantApi, validateDocument } from '../../tenant-documents.ts';

/** Repeatable `--scope`; each value may itself list scopes separated by spaces or commas. */
const collect = (value: string, previous: string[] = []) => [...previous, value];

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
  validateDocument(document, trustRelationshipInputSchema(), 'the relationship built from the options', 'trust relationship');
  // storedTokenFor (inside) refuses before any request when the stored token is another tenant's.
  const res = await tenantApi(cmd, { tenant: opts.tenant }, API_ROUTES.trustRelationships, {
    method: 'POST',
    headers: JSON_TYPE,
    body: JSON.stringify(document),
  });
  const r = res.body as TrustRelationship;
  notice(
    `created trust relationship ${r.id} (version ${r.version}): tenant ${opts.tenant} ` +
      `admits identities of ${opts.identityPool} (developer provider ${opts.developerProvider ?? 'of the deployment'})`,
  );
  if (opts.output === 'json') printJson(r);
}

/** `auth trust-aws-cognito-identity-pool`: let a Cognito identity pool's identities sign in to a tenant. */
export function registerTrustAwsCognitoIdentityPool(auth: Command): void {
  auth
    .command('trust-aws-cognito-identity-pool')
    .description(
      'let workloads authenticated by a Cognito identity pool (fedbroker as developer provider) sign in to a tenant (needs trust:admin)',
    )
    .requiredOption('--aws-region <region>', 'region of the identity pool', regionArgument)
    .requiredOption('--identity-pool <id>', 'identity pool id, <region>:<guid>', poolArgument)
    .addOption(tenantOption('the tenant to trust the pool (the stored token must be its admin)'))
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
}

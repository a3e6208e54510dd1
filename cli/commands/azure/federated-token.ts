import { resolve } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { exportLines } from '../../aws-credentials.ts';
import { durationOption } from '../../duration.ts';
import { notice } from '../../output.ts';
import { issueIdTokenFor } from '../../outputs/id-token.ts';
import { storedTokenSource } from '../../outputs/stored-token.ts';
import { loopOptions, refreshUntilStopped, until, type LoopOptions } from '../../outputs/keep-fresh-loop.ts';
import { writePrivateFile } from '../../private-file.ts';
import type { Lifetime } from '../../refresh.ts';

/** The audience Entra ID expects in federated credentials (Microsoft Entra workload ID docs, "Workload identity federation"). */
const AZURE_TOKEN_EXCHANGE_AUDIENCE = 'api://AzureADTokenExchange';
const PUBLIC_CLOUD = 'https://login.microsoftonline.com/';
/**
 * @azure/identity's WorkloadIdentityCredential keeps the file's content for 5 minutes
 * (workloadIdentityCredential.ts, readFileContents): a token rewritten later than 5 minutes before
 * its expiry may be sent after it expired. Refreshes are scheduled with that margin.
 */
const READER_CACHE_MS = 5 * 60_000;

interface FederatedTokenOptions extends LoopOptions {
  audience: string;
  tokenFile: string;
  clientId: string;
  tenantId: string;
  authorityHost: string;
  duration?: number;
  refresh?: boolean;
}

function guidArgument(text: string): string {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(text))
    throw new InvalidArgumentError('expected a GUID, e.g. 00000000-0000-0000-0000-000000000000');
  return text;
}

/** A tenant GUID or a verified domain (the characters @azure/identity's checkTenantId accepts). */
function tenantIdArgument(text: string): string {
  if (!/^[0-9a-zA-Z.-]{1,253}$/.test(text))
    throw new InvalidArgumentError('expected a tenant GUID or domain, e.g. contoso.onmicrosoft.com');
  return text;
}

/** MSAL refuses an authority that is not https (msal-common UrlString: authority_uri_insecure). */
function authorityHostArgument(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InvalidArgumentError('expected an https URL, e.g. https://login.microsoftonline.com/');
  }
  if (url.protocol !== 'https:' || url.search || url.hash || url.username)
    throw new InvalidArgumentError('expected an https URL without query');
  return url.href;
}

/**
 * `azure federated-token`: the AKS workload identity contract (Azure docs, "Use Microsoft Entra
 * Workload ID with AKS": AZURE_FEDERATED_TOKEN_FILE, AZURE_CLIENT_ID, AZURE_TENANT_ID,
 * AZURE_AUTHORITY_HOST), so every Azure SDK's WorkloadIdentityCredential / DefaultAzureCredential
 * signs in with a fedbroker ID token as client assertion, with no change to the workload.
 */
async function federatedToken(opts: FederatedTokenOptions, cmd: Command): Promise<void> {
  const path = resolve(opts.tokenFile);
  const current = await storedTokenSource(cmd, opts.refresh ?? false);
  const issue = async (): Promise<Lifetime> => {
    const id = await issueIdTokenFor(await current(), opts.audience, opts.duration);
    // No trailing newline: the file's content is the assertion, byte for byte.
    await writePrivateFile(path, id.token);
    return id;
  };
  const first = await issue();
  process.stdout.write(
    exportLines([
      ['AZURE_FEDERATED_TOKEN_FILE', path],
      ['AZURE_CLIENT_ID', opts.clientId],
      ['AZURE_TENANT_ID', opts.tenantId],
      ['AZURE_AUTHORITY_HOST', opts.authorityHost],
    ]),
  );
  if (!opts.refresh) return notice(`wrote ${path}: ID token for ${opts.audience} valid until ${until(first)}`);
  notice(`wrote ${path}: ID token valid until ${until(first)}; refreshing until stopped (Ctrl-C)`);
  await refreshUntilStopped(path, first, issue, opts, READER_CACHE_MS);
  notice(`stopped; ${path} keeps its last token until it expires`);
}

export function registerFederatedToken(azure: Command): void {
  loopOptions(
    azure
      .command('federated-token')
      .description('keep an ID token in a file for Azure workload identity and print the AZURE_* variables the Azure SDKs read')
      .requiredOption('--token-file <file>', 'where to write the ID token (0600, replaced atomically); keep it outside the workspace')
      .requiredOption('--client-id <guid>', "the Entra application's (or managed identity's) client id", guidArgument)
      .requiredOption('--tenant-id <tenant>', 'the Entra tenant id', tenantIdArgument)
      .option('--audience <audience>', "the ID token's aud, as in the federated credential", AZURE_TOKEN_EXCHANGE_AUDIENCE)
      .addOption(
        new Option('--authority-host <url>', 'Entra ID authority host (sovereign clouds differ)')
          .argParser(authorityHostArgument)
          .default(PUBLIC_CLOUD),
      )
      .option('--duration <duration>', "the ID token's lifetime, e.g. 1h (default: the broker's)", durationOption)
      .option(
        '--refresh',
        'keep running and rewrite the file while at least 5 minutes of the token are left (the Azure SDK caches the file that long)',
      ),
    'with --refresh',
  ).action(federatedToken);
}

import { dirname, join, relative, resolve, isAbsolute } from 'node:path';
import { Option, type Command } from 'commander';
import { exportLines } from '../../aws-credentials.ts';
import { durationOption } from '../../duration.ts';
import { usageError } from '../../errors.ts';
import { notice } from '../../output.ts';
import {
  defaultTokenAudience,
  externalAccountConfig,
  GOOGLE_STS_TOKEN_URL,
  impersonationUrlArgument,
  providerAudienceArgument,
  type CredentialSource,
} from '../../outputs/google.ts';
import { issueIdTokenFor } from '../../outputs/id-token.ts';
import { storedTokenSource } from '../../outputs/stored-token.ts';
import { loopOptions, refreshUntilStopped, until, type LoopOptions } from '../../outputs/keep-fresh-loop.ts';
import { writePrivateFile } from '../../private-file.ts';
import type { Lifetime } from '../../refresh.ts';
import { tokenFilePath } from '../../token-file.ts';

interface CredentialConfigOptions extends LoopOptions {
  audience: string;
  serviceAccountImpersonationUrl?: string;
  output?: string;
  tokenAudience?: string;
  tokenUrl: string;
  duration?: number;
  tokenFile?: string;
  refresh?: boolean;
  command?: string;
}

/** Google's executable timeout bounds are 5-120 s (pluggable auth); an exchange takes well under 30. */
const EXECUTABLE_TIMEOUT_MS = 30_000;

/** Quotes one command component the way Google's libraries split `command` (on spaces, "…" kept together). */
const component = (part: string) => (/\s/.test(part) ? `"${part}"` : part);

/** This very CLI, run by this very Node: what the config calls unless `--command` says otherwise. */
const selfCommand = () => [process.execPath, resolve(process.argv[1] ?? 'fedbroker')].map(component).join(' ');

/** A path under the CI workspace would be uploaded with artifacts or caches; refuse it. */
function outsideWorkspace(path: string, what: string): string {
  const workspace = process.env.GITHUB_WORKSPACE;
  if (workspace) {
    const rel = relative(resolve(workspace), path);
    if (rel === '' || (!rel.startsWith('..') && !isAbsolute(rel)))
      throw usageError(`${what} ${path} is inside GITHUB_WORKSPACE; put it under RUNNER_TEMP or the config home`);
  }
  return path;
}

/**
 * `gcp credential-config`: a Workload Identity Federation credential configuration for Google's
 * client libraries and gcloud (`type: external_account`, IAM docs "Create a credential
 * configuration"). Executable-sourced by default: the library runs `fedbroker gcp executable`
 * whenever it needs a new subject token, so nothing long-lived is kept on disk. With --token-file
 * it is file-sourced instead: the ID token is written there, and --refresh keeps it fresh.
 */
async function credentialConfig(opts: CredentialConfigOptions, cmd: Command): Promise<void> {
  if (opts.refresh && opts.tokenFile === undefined)
    throw usageError('--refresh needs --token-file (the executable-sourced config needs no refresh)');
  const output = outsideWorkspace(resolve(opts.output ?? join(dirname(tokenFilePath()), 'gcp-credential-config.json')), '--output');
  const tokenAudience = opts.tokenAudience ?? defaultTokenAudience(opts.audience);
  const current = await storedTokenSource(cmd, opts.refresh ?? false);
  let source: CredentialSource;
  let issue: (() => Promise<Lifetime>) | undefined;
  let tokenPath: string | undefined;
  if (opts.tokenFile !== undefined) {
    const path = outsideWorkspace(resolve(opts.tokenFile), '--token-file');
    tokenPath = path;
    source = { file: path, format: { type: 'text' } };
    issue = async () => {
      const id = await issueIdTokenFor(await current(), tokenAudience, opts.duration);
      await writePrivateFile(path, id.token);
      return id;
    };
  } else {
    const args = ['gcp', 'executable', '--audience', tokenAudience, ...(opts.duration ? ['--duration', String(opts.duration)] : [])];
    source = {
      executable: { command: [opts.command ?? selfCommand(), ...args.map(component)].join(' '), timeout_millis: EXECUTABLE_TIMEOUT_MS },
    };
  }
  const config = externalAccountConfig({
    audience: opts.audience,
    tokenUrl: opts.tokenUrl,
    impersonationUrl: opts.serviceAccountImpersonationUrl,
    source,
  });
  await writePrivateFile(output, `${JSON.stringify(config, null, 2)}\n`);
  const first = issue ? await issue() : undefined;
  process.stdout.write(
    exportLines([
      ['GOOGLE_APPLICATION_CREDENTIALS', output],
      // Google's libraries run no executable unless this is 1 (a deliberate opt-in).
      ...(issue ? [] : ([['GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES', '1']] as [string, string][])),
    ]),
  );
  const kind = issue ? `file-sourced (${tokenPath})` : 'executable-sourced';
  notice(`wrote ${output}: ${kind} credential configuration for ${opts.audience}`);
  if (!first || !issue || !tokenPath) return;
  if (!opts.refresh) return notice(`wrote ${tokenPath}: ID token for ${tokenAudience} valid until ${until(first)}`);
  notice(`wrote ${tokenPath}: ID token valid until ${until(first)}; refreshing until stopped (Ctrl-C)`);
  await refreshUntilStopped(tokenPath, first, issue, opts);
  notice(`stopped; ${tokenPath} keeps its last token until it expires`);
}

export function registerCredentialConfig(gcp: Command): void {
  loopOptions(
    gcp
      .command('credential-config')
      .description('write an external_account credential configuration (GOOGLE_APPLICATION_CREDENTIALS) that gets ID tokens from fedbroker')
      .requiredOption(
        '--audience <provider>',
        'the workload identity provider: ' +
          '//iam.googleapis.com/projects/<number>/locations/global/workloadIdentityPools/<pool>/providers/<provider>',
        providerAudienceArgument,
      )
      .option('--service-account-impersonation-url <url>', 'impersonate this service account after the exchange', impersonationUrlArgument)
      .option(
        '--output <file>',
        'where to write the configuration (0600; default: gcp-credential-config.json in the fedbroker config home)',
      )
      .option('--token-audience <aud>', "the ID token's aud (default: https: + the provider, Google's default allowed audience)")
      .addOption(new Option('--token-url <url>', "Google's STS token endpoint").default(GOOGLE_STS_TOKEN_URL))
      .option('--duration <duration>', "the ID token's lifetime, e.g. 15m (default: the broker's)", durationOption)
      .option('--token-file <file>', 'file-sourced instead: write the ID token to this file (0600) and point the configuration at it')
      .option('--refresh', 'with --token-file: keep running and rewrite the file at 80% of the token lifetime (SIGINT/SIGTERM stop it)')
      .option('--command <command>', 'the fedbroker command the executable-sourced configuration runs (default: this node and this CLI)'),
    'with --refresh',
  ).action(credentialConfig);
}

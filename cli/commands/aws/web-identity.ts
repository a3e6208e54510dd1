import { resolve } from 'node:path';
import type { Command } from 'commander';
import { defaultSessionName, exportLines, isoSeconds, sessionNameArgument } from '../../aws-credentials.ts';
import { storedTokenFor } from '../../context.ts';
import { renewable, renewStoredToken } from '../../sign-in.ts';
import { readStoredToken, renewCommand, secondsLeft } from '../../token-file.ts';
import { durationFlag } from '../../options.ts';
import { notice } from '../../output.ts';
import { writePrivateFile } from '../../private-file.ts';
import { loopOptions, refreshUntilStopped } from '../../outputs/keep-fresh-loop.ts';
import type { Lifetime } from '../../refresh.ts';
import { issueStsIdToken, roleArnArgument } from '../../sts.ts';

/** The stored access token is renewed once it has less than this left (an ID token cannot outlive it). */
const RENEW_BEFORE_SECONDS = 300;

interface WebIdentityOptions {
  roleArn: string;
  tokenFile: string;
  duration?: number;
  sessionName?: string;
  refresh?: boolean;
  maxFailures: number;
  timeScale: number;
}

/**
 * `aws web-identity`: the ID token in a file, for the SDKs' web identity provider
 * (AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE, as on EKS). The SDKs re-read the file whenever
 * they refresh credentials, so with --refresh this process keeps the file fresh and the SDK
 * never needs fedbroker at all. Each refresh re-reads the stored access token and, when it is
 * about to expire, renews it the way it was obtained (its token file read again, or Cognito
 * asked again); a token that cannot be renewed so is announced at start.
 */
async function webIdentity(opts: WebIdentityOptions, cmd: Command): Promise<void> {
  const path = resolve(opts.tokenFile);
  const stored = await storedTokenFor(cmd);
  const sessionName = opts.sessionName ?? defaultSessionName(stored.tenant, stored.sub);
  if (opts.refresh && !renewable(stored)) {
    notice(
      `the stored access token expires at ${stored.expires_at} and cannot be renewed by this process (it was signed in with ` +
        `an inline token); refreshes fail after that unless it is renewed, e.g. by: ${renewCommand(stored)}`,
    );
  }
  const current = async () => {
    const held = await readStoredToken();
    if (opts.refresh && held && renewable(held) && secondsLeft(held) <= RENEW_BEFORE_SECONDS) await renewStoredToken(held);
    return storedTokenFor(cmd);
  };
  const issue = async (): Promise<Lifetime> => {
    const id = await issueStsIdToken(await current(), opts.duration);
    // No trailing newline: the SDKs send the file's content as the token, byte for byte.
    await writePrivateFile(path, id.token);
    return id;
  };
  const first = await issue();
  process.stdout.write(
    exportLines([
      ['AWS_ROLE_ARN', opts.roleArn],
      ['AWS_WEB_IDENTITY_TOKEN_FILE', path],
      ['AWS_ROLE_SESSION_NAME', sessionName],
    ]),
  );
  const until = (l: Lifetime) => isoSeconds(new Date(l.expiresAt));
  if (!opts.refresh) return notice(`wrote ${path}: ID token for sts.amazonaws.com valid until ${until(first)}`);

  notice(`wrote ${path}: ID token valid until ${until(first)}; refreshing until stopped (Ctrl-C)`);
  await refreshUntilStopped(path, first, issue, opts);
  notice(`stopped; ${path} keeps its last token until it expires`);
}

export function registerWebIdentity(aws: Command): void {
  const command = aws
    .command('web-identity')
    .description(
      'write an ID token for sts.amazonaws.com to a file and print AWS_ROLE_ARN / AWS_WEB_IDENTITY_TOKEN_FILE exports for the SDKs',
    )
    .requiredOption('--role-arn <arn>', 'the IAM role the SDKs should assume', roleArnArgument)
    .requiredOption('--token-file <file>', 'where to write the ID token (0600, replaced atomically)')
    .addOption(durationFlag("the ID token's lifetime, e.g. 15m (default: the broker's)"))
    .option('--session-name <name>', 'AWS_ROLE_SESSION_NAME (default: fedbroker.<tenant>.<principal>.<hash>)', sessionNameArgument)
    .option(
      '--refresh',
      'keep running and rewrite the file when 80% of the token lifetime has passed (SIGINT/SIGTERM stop it); ' +
        'run it in the background, not inside $(…)',
    );
  loopOptions(command, 'with --refresh').action(webIdentity);
}

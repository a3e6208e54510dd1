import { resolve } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { redact } from '../../../lib/redact.ts';
import { defaultSessionName, exportLines, isoSeconds, sessionNameArgument } from '../../aws-credentials.ts';
import { storedTokenFor } from '../../context.ts';
import { renewable, renewStoredToken } from '../../sign-in.ts';
import { readStoredToken, renewCommand, secondsLeft } from '../../token-file.ts';
import { durationFlag } from '../../options.ts';
import { CliError, toCliError } from '../../errors.ts';
import { notice } from '../../output.ts';
import { writePrivateFile } from '../../private-file.ts';
import { abortableSleep, keepFresh, REFRESH_DEFAULTS, RefreshGaveUp, type Lifetime } from '../../refresh.ts';
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

function countArgument(text: string): number {
  if (!/^\d{1,3}$/.test(text) || Number(text) < 1) throw new InvalidArgumentError('a whole number from 1 to 999');
  return Number(text);
}

function scaleArgument(text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value < 1 || value > 10_000) throw new InvalidArgumentError('a factor from 1 to 10000');
  return value;
}

const describeFailure = (e: unknown) => {
  const failure = toCliError(e);
  return `${failure.error}: ${redact(failure.message)}`;
};

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
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await keepFresh(
      first,
      {
        refresh: issue,
        now: Date.now,
        // --time-scale (hidden, for tests) shortens every wait by its factor.
        sleep: (ms, signal) => abortableSleep(ms / opts.timeScale, signal),
        onRefreshed: (l) => notice(`refreshed ${path}: valid until ${until(l)}`),
        onFailure: (e, n, wait) =>
          notice(`refresh ${n}/${opts.maxFailures} failed (${describeFailure(e)}); retrying in ${Math.ceil(wait / 1000)}s`),
      },
      { ...REFRESH_DEFAULTS, maxFailures: opts.maxFailures, signal: controller.signal },
    );
  } catch (e) {
    if (!(e instanceof RefreshGaveUp)) throw e;
    throw new CliError('refresh_failed', `${path}: ${e.message}; last: ${describeFailure(e.cause)}`);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  notice(`stopped; ${path} keeps its last token until it expires`);
}

export function registerWebIdentity(aws: Command): void {
  aws
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
    )
    .addOption(
      new Option('--max-failures <n>', 'with --refresh: exit 1 after this many consecutive failed refreshes')
        .argParser(countArgument)
        .default(REFRESH_DEFAULTS.maxFailures),
    )
    .addOption(new Option('--time-scale <factor>').argParser(scaleArgument).default(1).hideHelp())
    .action(webIdentity);
}

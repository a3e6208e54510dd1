import { rm } from 'node:fs/promises';
import type { Command } from 'commander';
import { formatDuration } from '../../duration.ts';
import { CliError } from '../../errors.ts';
import { notice, type OutputFormat, outputOption, printJson, printLine } from '../../output.ts';
import { describe } from '../../sign-in.ts';
import {
  isExpired,
  readStoredToken,
  removeStoredToken,
  renewCommand,
  type StoredToken,
  secondsLeft,
  tokenFilePath,
} from '../../token-file.ts';
import { credentialCacheDirectory } from '../aws/credential-process.ts';

const FIRST_STEP = 'not signed in; run fedbroker auth exchange-oidc-token first';

function renewal(stored: StoredToken): string {
  const r = stored.renew;
  if (r?.kind === 'oidc-token-file') return `re-reads ${r.token_file} (--refresh modes renew it)`;
  if (r?.kind === 'aws-cognito') return `asks Cognito pool ${r.identity_pool} again (--refresh modes renew it)`;
  return 'cannot be renewed without you (signed in with an inline --token)';
}

/**
 * `auth status`: who the stored token speaks for, and until when. Exit 1 when there is none or it
 * has expired, so a script can test it; the message then says which command signs in again.
 */
async function status(opts: { output: OutputFormat }): Promise<void> {
  const stored = await readStoredToken();
  if (!stored) throw new CliError('no_token', FIRST_STEP);
  const expired = isExpired(stored);
  const left = secondsLeft(stored);
  if (opts.output === 'json') {
    printJson({ ...describe(stored), expires_in: Math.max(0, left), expired, renewable: stored.renew !== undefined });
  } else {
    const rows = [
      ['endpoint', stored.endpoint],
      ['tenant', stored.tenant],
      ['principal', stored.sub],
      ['scopes', stored.scope || '-'],
      ['expires', `${stored.expires_at} (${expired ? 'expired' : `in ${formatDuration(left)}`})`],
      ['renewal', renewal(stored)],
    ];
    for (const [key, value] of rows) printLine(`${`${key}:`.padEnd(11)}${value}`);
  }
  if (expired) throw new CliError('token_expired', `the stored access token has expired; renew it with: ${renewCommand(stored)}`);
}

/** `auth logout`: forget the stored token and the AWS credentials cached from it. */
async function logout(): Promise<void> {
  const removed = await removeStoredToken();
  await rm(credentialCacheDirectory(), { recursive: true, force: true });
  notice(
    removed
      ? `signed out: removed ${tokenFilePath()} and the cached AWS credentials ` +
          '(tokens already handed out stay valid until they expire; fedbroker auth revoke-token ends one sooner)'
      : 'not signed in; nothing to remove',
  );
}

/** `fedbroker auth status` and `auth logout`. */
export function registerStatus(auth: Command): void {
  auth
    .command('status')
    .description('show who the stored access token speaks for: endpoint, tenant, principal, scopes, expiry; exit 1 if none or expired')
    .addOption(outputOption(['plain', 'json'], 'plain'))
    .action(status);
  auth.command('logout').description('remove the stored access token and the AWS credentials cached from it').action(logout);
}

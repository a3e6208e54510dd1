import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { type AwsCredentials, credentialProcessJson, defaultSessionName } from '../../aws-credentials.ts';
import { CliError } from '../../errors.ts';
import { readOptionalFile, writePrivateFile } from '../../private-file.ts';
import { endpointOf } from '../../context.ts';
import { cacheDirectory, readStoredToken } from '../../token-file.ts';
import { certificateRoleOptions, type RoleOptions, roleCredentials, roleOptions } from './role.ts';

/**
 * Credentials are reused until this long before they expire. The AWS SDKs refresh
 * credential_process credentials on their own schedule (as soon as 5 min before expiry in some),
 * so handing out ones closer to expiry would only have them call again at once.
 */
const REUSE_MARGIN_MS = 5 * 60_000;

/** The cache folder, removed by `auth logout` with the token the credentials came from. */
export const credentialCacheDirectory = (env: NodeJS.ProcessEnv = process.env) => join(cacheDirectory(env), 'aws-credentials');

/**
 * One file per role, session and tenant — and per principal and endpoint, so that whoever signs in
 * next on this machine never gets the last one's credentials, and per session length asked for.
 */
function cacheFile(key: { endpoint: string; tenant: string; sub: string; roleArn: string; sessionName: string; duration: number }): string {
  const digest = createHash('sha256')
    .update(JSON.stringify([key.endpoint, key.tenant, key.sub, key.roleArn, key.sessionName, key.duration]))
    .digest('hex');
  return join(credentialCacheDirectory(), `${digest.slice(0, 32)}.json`);
}

async function cached(path: string, now = Date.now()): Promise<AwsCredentials | undefined> {
  const text = await readOptionalFile(path).catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    const c = JSON.parse(text) as Record<string, unknown>;
    const expiration = new Date(String(c.Expiration));
    if (typeof c.AccessKeyId !== 'string' || typeof c.SecretAccessKey !== 'string' || typeof c.SessionToken !== 'string') return undefined;
    if (!(expiration.getTime() - now > REUSE_MARGIN_MS)) return undefined;
    return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, expiration };
  } catch {
    return undefined;
  }
}

/**
 * Nothing but the JSON on stdout: the SDKs parse it, and fail on anything else. The SDKs call the
 * process for every client they build, so the answer is cached (0600, under $XDG_CACHE_HOME) and
 * reused until 5 minutes before it expires: one exchange, one STS call and one audit record per
 * session instead of per call. A cache that cannot be read or written is no failure.
 */
async function credentialProcess(opts: RoleOptions & { cache: boolean }, cmd: Command): Promise<void> {
  // With a certificate the stored token plays no part: the cache is keyed by the certificate file instead.
  const stored = opts.certificate ? await certificateCacheKey(cmd, opts) : await readStoredToken();
  const path =
    opts.cache && stored
      ? cacheFile({
          endpoint: stored.endpoint,
          tenant: stored.tenant,
          sub: stored.sub,
          roleArn: opts.roleArn,
          sessionName: opts.sessionName ?? defaultSessionName(stored.tenant, stored.sub),
          duration: opts.duration,
        })
      : undefined;
  const hit = path !== undefined ? await cached(path) : undefined;
  if (hit) return void process.stdout.write(credentialProcessJson(hit));
  const { credentials } = await roleCredentials(cmd, opts);
  const json = credentialProcessJson(credentials);
  if (path !== undefined) {
    try {
      await writePrivateFile(path, json);
    } catch (e) {
      if (!(e instanceof CliError)) throw e;
      await rm(path, { force: true }).catch(() => {});
    }
  }
  process.stdout.write(json);
}

/** Who a certificate's credentials are cached for: endpoint, tenant and the certificate file's digest. */
async function certificateCacheKey(
  cmd: Command,
  opts: RoleOptions,
): Promise<{ endpoint: string; tenant: string; sub: string } | undefined> {
  if (!opts.tenant || !opts.certificate || opts.certificate === '-') return undefined;
  const text = await readOptionalFile(opts.certificate).catch(() => undefined);
  if (text === undefined) return undefined;
  return { endpoint: endpointOf(cmd).endpoint, tenant: opts.tenant, sub: `x509:${createHash('sha256').update(text).digest('hex')}` };
}

/** `fedbroker aws credential-process`. */
export function registerCredentialProcess(aws: Command): void {
  certificateRoleOptions(roleOptions(aws.command('credential-process')))
    .description(
      'print role credentials as credential_process JSON (for credential_process in ~/.aws/config), cached until 5 min before expiry; ' +
        'with --certificate, from a certificate instead of the stored token (docs/x509.md)',
    )
    .option('--no-cache', 'always get new credentials; neither read nor write the cache')
    .action(credentialProcess);
}

import { rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { z } from 'zod';
import { TENANT_ID } from '../lib/tenants/tenant.ts';
import { CliError } from './errors.ts';
import { readOptionalFile, writePrivateFile } from './private-file.ts';

/**
 * How the stored token was obtained, when the same way can obtain the next one without the user:
 * an OIDC token re-read from the same file (a projected Kubernetes token, a CI job's token file),
 * or a Cognito token got again with the workload's AWS credentials. A token given inline with
 * `--token` has no `renew`: the CLI never stores the external token itself.
 */
export const renewSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('oidc-token-file'), token_file: z.string().min(1) }),
  z.object({
    kind: z.literal('aws-cognito'),
    aws_region: z.string(),
    identity_pool: z.string(),
    developer_provider: z.string(),
    aws_profile: z.string().optional(),
  }),
]);
export type Renewal = z.infer<typeof renewSchema>;

/** What `auth exchange-oidc-token` keeps between runs. `expires_at` is ISO 8601, readable by people and `Date.parse`. */
export const storedTokenSchema = z.object({
  endpoint: z.url(),
  tenant: z.string().regex(TENANT_ID),
  access_token: z.string().min(1),
  expires_at: z.iso.datetime(),
  scope: z.string(),
  sub: z.string(),
  /** The scopes and lifetime asked for at sign-in, asked for again when renewing. */
  requested_scope: z.string().optional(),
  requested_duration: z.number().int().positive().optional(),
  renew: renewSchema.optional(),
});
export type StoredToken = z.infer<typeof storedTokenSchema>;

/** A token this close to expiry is treated as expired: a request sent with it would race the clock. */
const EXPIRY_MARGIN_SECONDS = 5;

const FIRST_STEP = 'run fedbroker auth exchange-oidc-token first';

/**
 * `$XDG_CONFIG_HOME/fedbroker/token.json`, else `~/.config/fedbroker/token.json`. A relative
 * XDG_CONFIG_HOME is ignored, as the XDG Base Directory spec requires.
 */
export function tokenFilePath(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CONFIG_HOME;
  const base = xdg && isAbsolute(xdg) ? xdg : join(homedir(), '.config');
  return join(base, 'fedbroker', 'token.json');
}

/** `$XDG_CACHE_HOME/fedbroker`, else `~/.cache/fedbroker`: what can be made again (cached AWS credentials). */
export function cacheDirectory(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CACHE_HOME;
  const base = xdg && isAbsolute(xdg) ? xdg : join(homedir(), '.cache');
  return join(base, 'fedbroker');
}

/** The stored token, or undefined when there is none or it cannot be read as one. */
export async function readStoredToken(path = tokenFilePath()): Promise<StoredToken | undefined> {
  const text = await readOptionalFile(path);
  if (text === undefined) return undefined;
  try {
    const parsed = storedTokenSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Seconds until the stored token expires (negative once it has). */
export function secondsLeft(token: StoredToken, now = Date.now()): number {
  return Math.floor((Date.parse(token.expires_at) - now) / 1000);
}

/** The command that signs in again the way `token` was obtained, for messages. */
export function renewCommand(token: StoredToken): string {
  const r = token.renew;
  if (r?.kind === 'aws-cognito') {
    const profile = r.aws_profile !== undefined ? ` --aws-profile ${r.aws_profile}` : '';
    const pool = `--aws-region ${r.aws_region} --identity-pool ${r.identity_pool}`;
    return `fedbroker auth exchange-aws-cognito-token ${pool} --tenant ${token.tenant}${profile}`;
  }
  const file = r?.kind === 'oidc-token-file' ? r.token_file : '<a new OIDC token>';
  return `fedbroker auth exchange-oidc-token --tenant ${token.tenant} --token-file ${file}`;
}

/** True when the stored token cannot be used any more (or only for a moment). */
export const isExpired = (token: StoredToken, now = Date.now()) => secondsLeft(token, now) <= EXPIRY_MARGIN_SECONDS;

/** The stored token if it is still usable; otherwise a failure telling the user what to run. */
export async function requireValidToken(path = tokenFilePath()): Promise<StoredToken> {
  const token = await readStoredToken(path);
  if (!token) throw new CliError('no_token', `no stored access token; ${FIRST_STEP}`);
  if (isExpired(token)) throw new CliError('token_expired', `the stored access token has expired; renew it with: ${renewCommand(token)}`);
  return token;
}

/** Removes the stored token; true when there was one. */
export async function removeStoredToken(path = tokenFilePath()): Promise<boolean> {
  try {
    await rm(path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new CliError('file_error', `cannot remove ${path}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

/** Writes the token file atomically with mode 0600 (see {@link writePrivateFile}). */
export async function writeStoredToken(token: StoredToken, path = tokenFilePath()): Promise<void> {
  await writePrivateFile(path, `${JSON.stringify(token, null, 2)}\n`);
}

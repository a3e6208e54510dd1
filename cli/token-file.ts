import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { z } from 'zod';
import { TENANT_ID } from '../lib/tenants/tenant.ts';
import { CliError } from './errors.ts';
import { readOptionalFile, writePrivateFile } from './private-file.ts';

/** What `auth exchange-oidc-token` keeps between runs. `expires_at` is ISO 8601, readable by people and `Date.parse`. */
export const storedTokenSchema = z.object({
  endpoint: z.url(),
  tenant: z.string().regex(TENANT_ID),
  access_token: z.string().min(1),
  expires_at: z.iso.datetime(),
  scope: z.string(),
  sub: z.string(),
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

/** The stored token if it is still usable; otherwise a failure telling the user what to run. */
export async function requireValidToken(path = tokenFilePath()): Promise<StoredToken> {
  const token = await readStoredToken(path);
  if (!token) throw new CliError('no_token', `no stored access token; ${FIRST_STEP}`);
  if (secondsLeft(token) <= EXPIRY_MARGIN_SECONDS)
    throw new CliError('token_expired', `the stored access token has expired; ${FIRST_STEP}`);
  return token;
}

/** Writes the token file atomically with mode 0600 (see {@link writePrivateFile}). */
export async function writeStoredToken(token: StoredToken, path = tokenFilePath()): Promise<void> {
  await writePrivateFile(path, `${JSON.stringify(token, null, 2)}\n`);
}

import { readFile } from 'node:fs/promises';
import { InvalidArgumentError, type Command } from 'commander';
import { TENANT_ID } from '../lib/tenants/tenant.ts';
import { CliError, usageError } from './errors.ts';
import { normalizeEndpoint } from './http.ts';
import { localRun } from './operator.ts';
import { readStoredToken, requireValidToken, type StoredToken } from './token-file.ts';

export const DEFAULT_ENDPOINT = 'http://localhost:8787';

/** Commander parser for a tenant id, so a malformed one is a usage error before any I/O. */
export function tenantArgument(text: string): string {
  if (!TENANT_ID.test(text)) throw new InvalidArgumentError('a tenant id is 3-63 lower-case letters, digits and dashes');
  return text;
}

/**
 * The broker endpoint from `--endpoint` / `FEDBROKER_ENDPOINT`, else the local run's (`npm start`
 * records where it listens, so a changed PORT needs no variable), else the default; and whether
 * the user chose it (so the stored token's own endpoint can win over a default).
 */
export function endpointOf(cmd: Command): { endpoint: string; chosen: boolean } {
  const source = cmd.getOptionValueSourceWithGlobals('endpoint');
  const chosen = source !== undefined && source !== 'default';
  const raw = chosen ? String(cmd.optsWithGlobals().endpoint) : (localRun()?.endpoint ?? DEFAULT_ENDPOINT);
  return { endpoint: normalizeEndpoint(raw, { insecure: insecure(cmd) }), chosen };
}

/** `--insecure`: plain http to a host other than this machine, tokens unencrypted on the way. */
const insecure = (cmd: Command) => cmd.optsWithGlobals().insecure === true;

/**
 * Where a sign-in goes: the endpoint the user chose, else the one the stored token came from (so
 * `--ensure` and renewals stay with the broker the user signed in to), else the default.
 */
export async function signInEndpoint(cmd: Command): Promise<string> {
  const chosen = endpointOf(cmd);
  if (chosen.chosen) return chosen.endpoint;
  const stored = await readStoredToken();
  return stored ? normalizeEndpoint(stored.endpoint, { insecure: insecure(cmd) }) : chosen.endpoint;
}

/**
 * The stored access token, checked against what the command was asked to do: it must be unexpired,
 * come from the chosen endpoint (a bearer token is never sent to another host) and, when the user
 * names a tenant, belong to that tenant.
 */
export async function storedTokenFor(cmd: Command, tenant?: string): Promise<StoredToken> {
  const { endpoint, chosen } = endpointOf(cmd);
  const stored = await requireValidToken();
  // The stored endpoint passes the same check as a typed one: plain http off this machine needs --insecure every time.
  normalizeEndpoint(stored.endpoint, { insecure: insecure(cmd) });
  if (chosen && stored.endpoint !== endpoint) {
    throw new CliError(
      'endpoint_mismatch',
      `the stored token was issued by ${stored.endpoint}; run fedbroker auth exchange-oidc-token --endpoint ${endpoint} first`,
    );
  }
  if (tenant !== undefined && tenant !== stored.tenant) {
    throw new CliError(
      'tenant_mismatch',
      `the stored token belongs to tenant ${stored.tenant}; run fedbroker auth exchange-oidc-token --tenant ${tenant} first`,
    );
  }
  return stored;
}

/** Checks that exactly one of `--token` / `--token-file` was given (before any I/O). */
export function requireOneTokenSource(opts: { token?: string; tokenFile?: string }): void {
  if ((opts.token === undefined) === (opts.tokenFile === undefined)) throw usageError('give exactly one of --token and --token-file');
}

/** The JWT from `--token` or the contents of `--token-file`, surrounding whitespace removed. */
export async function readTokenSource(opts: { token?: string; tokenFile?: string }): Promise<string> {
  requireOneTokenSource(opts);
  let token = opts.token;
  if (opts.tokenFile !== undefined) {
    try {
      token = await readFile(opts.tokenFile, 'utf8');
    } catch (e) {
      throw usageError(`cannot read --token-file ${opts.tokenFile}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  }
  const trimmed = (token ?? '').trim();
  if (!trimmed) throw usageError('the token is empty');
  return trimmed;
}

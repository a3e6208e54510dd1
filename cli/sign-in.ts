import { readFile } from 'node:fs/promises';
import type { ExchangeResponse } from '../lib/app/exchange.ts';
import { TOKEN_TYPE } from '../lib/tokens/types.ts';
import { SCOPES } from '../lib/tenants/tenant.ts';
import { formatDuration } from './duration.ts';
import { CliError, usageError } from './errors.ts';
import { exchangeToken } from './http.ts';
import { decodeUnverified, notice, printJson, type OutputFormat } from './output.ts';
import { readStoredToken, type Renewal, renewCommand, type StoredToken, secondsLeft, writeStoredToken } from './token-file.ts';

/**
 * Signing in, shared by every command that trades an external token for the stored fedbroker
 * access token (`auth exchange-oidc-token`, `auth exchange-aws-cognito-token`), so they store,
 * skip (`--ensure`) and report in exactly the same way.
 */

/** `--scope` accepts spaces or commas; unknown scopes are refused locally, as the server would. */
export function parseScopes(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  const scopes = [...new Set(text.split(/[\s,]+/).filter(Boolean))];
  const unknown = scopes.filter((s) => !(SCOPES as readonly string[]).includes(s));
  if (unknown.length) throw usageError(`unknown scope ${unknown.join(', ')}; known scopes: ${SCOPES.join(', ')}`);
  return scopes.length ? scopes : undefined;
}

/** Who the stored token speaks for, without the token itself: safe to print. */
export function describe(stored: StoredToken) {
  const { endpoint, tenant, expires_at, scope, sub } = stored;
  return { endpoint, tenant, expires_at, scope, sub };
}

export interface SignInRequest {
  endpoint: string;
  tenant: string;
  scopes?: string[];
  duration?: number;
  output: OutputFormat;
  /** How to obtain the next token the same way, kept with this one (see {@link renewStoredToken}). */
  renew?: Renewal;
}

function stillGood(stored: StoredToken | undefined, want: SignInRequest & { seconds: number }): stored is StoredToken {
  if (!stored || stored.endpoint !== want.endpoint || stored.tenant !== want.tenant) return false;
  const held = stored.scope.split(' ');
  return secondsLeft(stored) >= want.seconds && (want.scopes ?? []).every((s) => held.includes(s));
}

/**
 * `--ensure`: true (after telling the user) when the stored token is for this endpoint and tenant,
 * holds the scopes asked for and is valid at least `seconds` longer, so no exchange is needed.
 */
export async function storedTokenSuffices(want: SignInRequest, seconds: number | undefined): Promise<boolean> {
  if (seconds === undefined) return false;
  const stored = await readStoredToken();
  if (!stillGood(stored, { ...want, seconds })) return false;
  notice(`the stored access token for ${stored.sub} is valid for another ${formatDuration(secondsLeft(stored))}; nothing exchanged`);
  if (want.output === 'json') printJson(describe(stored));
  return true;
}

/** Exchanges an external ID token (OIDC or Cognito) for an access token of `tenant` and stores it 0600. */
export async function signIn(want: SignInRequest, subjectToken: string): Promise<StoredToken> {
  let response: ExchangeResponse;
  try {
    response = await exchangeToken(want.endpoint, {
      subject_token: subjectToken,
      subject_token_type: TOKEN_TYPE.idToken,
      tenant: want.tenant,
      scope: want.scopes?.join(' '),
      duration_seconds: want.duration?.toString(),
    });
  } catch (e) {
    throw withExplainHint(e, want);
  }
  const claims = decodeUnverified(response.access_token).payload;
  const exp = typeof claims.exp === 'number' ? claims.exp * 1000 : Date.now() + response.expires_in * 1000;
  const stored: StoredToken = {
    endpoint: want.endpoint,
    tenant: want.tenant,
    access_token: response.access_token,
    expires_at: new Date(exp).toISOString(),
    scope: response.scope ?? (typeof claims.scope === 'string' ? claims.scope : ''),
    sub: typeof claims.sub === 'string' ? claims.sub : '',
    ...(want.scopes !== undefined ? { requested_scope: want.scopes.join(' ') } : {}),
    ...(want.duration !== undefined ? { requested_duration: want.duration } : {}),
    ...(want.renew !== undefined ? { renew: want.renew } : {}),
  };
  await writeStoredToken(stored);
  notice(`signed in as ${stored.sub} (scopes: ${stored.scope || 'none'}), valid for ${formatDuration(secondsLeft(stored))}`);
  if (want.output === 'json') printJson(describe(stored));
  return stored;
}

/** Refusals of the subject token itself (not of the request's form): `explain` shows which check failed. */
const TOKEN_REFUSALS = new Set(['invalid_request', 'access_denied', 'invalid_grant']);

/**
 * A refused sign-in says where to look next: the broker names no relationship or claim to a
 * caller it does not trust, but a tenant admin can replay the token through `explain`.
 */
function withExplainHint(e: unknown, want: SignInRequest): unknown {
  if (!(e instanceof CliError) || !TOKEN_REFUSALS.has(e.error) || /duration_seconds|scope/.test(e.message)) return e;
  const file = want.renew?.kind === 'oidc-token-file' ? want.renew.token_file : '<the token>';
  return new CliError(
    e.error,
    `${e.message}; to see which trust relationship check refused it, an admin of tenant ${want.tenant} can run: ` +
      `fedbroker auth trust-relationships explain --token-file ${file}`,
  );
}

/** True when the stored token can be renewed without the user (see {@link renewStoredToken}). */
export const renewable = (stored: StoredToken) => stored.renew !== undefined;

/**
 * Signs in again the way `stored` was obtained — the OIDC token re-read from its file, or a new
 * Cognito token — asking for the same tenant, scopes and lifetime at the same endpoint.
 */
export async function renewStoredToken(stored: StoredToken): Promise<StoredToken> {
  const r = stored.renew;
  if (!r) throw new CliError('token_expired', `the stored access token cannot be renewed here; renew it with: ${renewCommand(stored)}`);
  const want: SignInRequest = {
    endpoint: stored.endpoint,
    tenant: stored.tenant,
    scopes: stored.requested_scope?.split(' ').filter(Boolean),
    duration: stored.requested_duration,
    output: 'plain',
    renew: r,
  };
  if (r.kind === 'oidc-token-file') {
    let token: string;
    try {
      token = (await readFile(r.token_file, 'utf8')).trim();
    } catch (e) {
      throw new CliError(
        'token_expired',
        `cannot renew the access token: cannot read ${r.token_file}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`,
      );
    }
    return signIn(want, token);
  }
  const { cognitoOpenIdToken } = await import('./cognito.ts');
  return signIn(want, await cognitoOpenIdToken(r, stored.tenant));
}

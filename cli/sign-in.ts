import { TOKEN_TYPE } from '../lib/tokens/types.ts';
import { SCOPES } from '../lib/tenants/tenant.ts';
import { formatDuration } from './duration.ts';
import { usageError } from './errors.ts';
import { exchangeToken } from './http.ts';
import { decodeUnverified, notice, printJson, type OutputFormat } from './output.ts';
import { readStoredToken, secondsLeft, writeStoredToken, type StoredToken } from './token-file.ts';

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

/** The stored record without the token itself: safe to print. */
function describe(stored: StoredToken) {
  const { access_token: _token, ...rest } = stored;
  return rest;
}

export interface SignInRequest {
  endpoint: string;
  tenant: string;
  scopes?: string[];
  duration?: number;
  output: OutputFormat;
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
  const response = await exchangeToken(want.endpoint, {
    subject_token: subjectToken,
    subject_token_type: TOKEN_TYPE.idToken,
    tenant: want.tenant,
    scope: want.scopes?.join(' '),
    duration_seconds: want.duration?.toString(),
  });
  const claims = decodeUnverified(response.access_token).payload;
  const exp = typeof claims.exp === 'number' ? claims.exp * 1000 : Date.now() + response.expires_in * 1000;
  const stored: StoredToken = {
    endpoint: want.endpoint,
    tenant: want.tenant,
    access_token: response.access_token,
    expires_at: new Date(exp).toISOString(),
    scope: response.scope ?? (typeof claims.scope === 'string' ? claims.scope : ''),
    sub: typeof claims.sub === 'string' ? claims.sub : '',
  };
  await writeStoredToken(stored);
  notice(`signed in as ${stored.sub} (scopes: ${stored.scope || 'none'}), valid for ${formatDuration(secondsLeft(stored))}`);
  if (want.output === 'json') printJson(describe(stored));
  return stored;
}

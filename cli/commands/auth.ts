import type { Command } from 'commander';
import { TOKEN_TYPE } from '../../lib/tokens/types.ts';
import { SCOPES } from '../../lib/trust/schema.ts';
import { endpointOf, readTokenSource, requireOneTokenSource, storedTokenFor, tenantArgument } from '../context.ts';
import { durationOption, formatDuration } from '../duration.ts';
import { usageError } from '../errors.ts';
import { exchangeToken } from '../http.ts';
import { decodeUnverified, notice, outputOption, printJson, printLine, type OutputFormat } from '../output.ts';
import { readStoredToken, secondsLeft, writeStoredToken, type StoredToken } from '../token-file.ts';
import { registerTrustRelationships } from './trust-relationships.ts';

interface ExchangeOptions {
  tenant: string;
  token?: string;
  tokenFile?: string;
  scope?: string;
  duration?: number;
  ensure?: number;
  output: OutputFormat;
}

/** `--scope` accepts spaces or commas; unknown scopes are refused locally, as the server would. */
function parseScopes(text: string | undefined): string[] | undefined {
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

function stillGood(stored: StoredToken | undefined, want: { endpoint: string; tenant: string; seconds: number; scopes?: string[] }): stored is StoredToken {
  if (!stored || stored.endpoint !== want.endpoint || stored.tenant !== want.tenant) return false;
  const held = stored.scope.split(' ');
  return secondsLeft(stored) >= want.seconds && (want.scopes ?? []).every((s) => held.includes(s));
}

async function exchangeOidcToken(opts: ExchangeOptions, cmd: Command): Promise<void> {
  const { endpoint } = endpointOf(cmd);
  const scopes = parseScopes(opts.scope);
  requireOneTokenSource(opts);
  if (opts.ensure !== undefined) {
    const stored = await readStoredToken();
    if (stillGood(stored, { endpoint, tenant: opts.tenant, seconds: opts.ensure, scopes })) {
      notice(`the stored access token for ${stored.sub} is valid for another ${formatDuration(secondsLeft(stored))}; nothing exchanged`);
      if (opts.output === 'json') printJson(describe(stored));
      return;
    }
  }
  const response = await exchangeToken(endpoint, {
    subject_token: await readTokenSource(opts),
    subject_token_type: TOKEN_TYPE.idToken,
    tenant: opts.tenant,
    scope: scopes?.join(' '),
    duration_seconds: opts.duration?.toString(),
  });
  const claims = decodeUnverified(response.access_token).payload;
  const exp = typeof claims.exp === 'number' ? claims.exp * 1000 : Date.now() + response.expires_in * 1000;
  const stored: StoredToken = {
    endpoint,
    tenant: opts.tenant,
    access_token: response.access_token,
    expires_at: new Date(exp).toISOString(),
    scope: response.scope ?? (typeof claims.scope === 'string' ? claims.scope : ''),
    sub: typeof claims.sub === 'string' ? claims.sub : '',
  };
  await writeStoredToken(stored);
  notice(`signed in as ${stored.sub} (scopes: ${stored.scope || 'none'}), valid for ${formatDuration(secondsLeft(stored))}`);
  if (opts.output === 'json') printJson(describe(stored));
}

interface IssueOptions {
  audience: string;
  duration?: number;
  output: OutputFormat;
  decode?: boolean;
}

async function issueIdToken(opts: IssueOptions, cmd: Command): Promise<void> {
  const stored = await storedTokenFor(cmd);
  const response = await exchangeToken(stored.endpoint, {
    subject_token: stored.access_token,
    subject_token_type: TOKEN_TYPE.accessToken,
    requested_token_type: TOKEN_TYPE.idToken,
    audience: opts.audience,
    duration_seconds: opts.duration?.toString(),
  });
  if (opts.decode) printJson(decodeUnverified(response.access_token));
  else if (opts.output === 'json') printJson(response);
  else printLine(response.access_token);
}

/** `fedbroker auth …`: sign in with an OIDC token, issue ID tokens, manage trust relationships. */
export function registerAuth(program: Command): void {
  const auth = program.command('auth').description('exchange tokens with the broker and manage trust relationships');

  auth
    .command('exchange-oidc-token')
    .description('exchange an OIDC token from a trusted issuer for a fedbroker access token, stored for later commands')
    .requiredOption('--tenant <tenant>', 'tenant whose trust relationships admit the token', tenantArgument)
    .option('--token <jwt>', 'the OIDC token (prefer --token-file: command lines are visible to other users)')
    .option('--token-file <file>', 'file holding the OIDC token')
    .option('--scope <scopes>', `scopes to ask for, space or comma separated (${SCOPES.join(', ')})`)
    .option('--duration <duration>', 'lifetime to ask for, e.g. 15m or 1h', durationOption)
    .option('--ensure <duration>', 'do nothing when the stored token is for this endpoint and tenant and valid at least this long', durationOption)
    .addOption(outputOption(['plain', 'json'], 'plain'))
    .action(exchangeOidcToken);

  auth
    .command('issue-id-token')
    .description('issue an OIDC ID token for an audience (e.g. sts.amazonaws.com) with the stored access token')
    .requiredOption('--audience <audience>', 'the aud of the ID token')
    .option('--duration <duration>', 'lifetime to ask for, e.g. 15m or 1h', durationOption)
    .addOption(outputOption(['plain', 'json'], 'plain'))
    .option('--decode', 'print the decoded header and payload instead of the token (the signature is not shown)')
    .action(issueIdToken);

  registerTrustRelationships(auth);
}

import type { Command } from 'commander';
import { TOKEN_TYPE } from '../../lib/tokens/types.ts';
import { SCOPES } from '../../lib/tenants/tenant.ts';
import { endpointOf, readTokenSource, requireOneTokenSource, storedTokenFor, tenantArgument } from '../context.ts';
import { durationOption } from '../duration.ts';
import { exchangeToken } from '../http.ts';
import { decodeUnverified, outputOption, printJson, printLine, type OutputFormat } from '../output.ts';
import { parseScopes, signIn, storedTokenSuffices } from '../sign-in.ts';
import { registerAudit } from './audit.ts';
import { registerCognitoAuth } from './cognito.ts';
import { registerRevoke } from './revoke.ts';
import { registerTrustRelationships } from './trust-relationships.ts';
import { registerX509 } from './x509.ts';

interface ExchangeOptions {
  tenant: string;
  token?: string;
  tokenFile?: string;
  scope?: string;
  duration?: number;
  ensure?: number;
  output: OutputFormat;
}

async function exchangeOidcToken(opts: ExchangeOptions, cmd: Command): Promise<void> {
  const { endpoint } = endpointOf(cmd);
  const want = { endpoint, tenant: opts.tenant, scopes: parseScopes(opts.scope), duration: opts.duration, output: opts.output };
  requireOneTokenSource(opts);
  if (await storedTokenSuffices(want, opts.ensure)) return;
  await signIn(want, await readTokenSource(opts));
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
    .option(
      '--ensure <duration>',
      'do nothing when the stored token is for this endpoint and tenant and valid at least this long',
      durationOption,
    )
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
  registerX509(auth);
  registerRevoke(auth);
  registerAudit(auth);
  registerCognitoAuth(auth);
}

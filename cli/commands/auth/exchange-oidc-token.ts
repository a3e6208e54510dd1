import { resolve } from 'node:path';
import type { Command } from 'commander';
import { readTokenSource, requireOneTokenSource, signInEndpoint } from '../../context.ts';
import { durationFlag, ensureOption, scopeOption, tenantOption, tokenSourceOptions } from '../../options.ts';
import { type OutputFormat, outputOption } from '../../output.ts';
import { parseScopes, signIn, storedTokenSuffices } from '../../sign-in.ts';

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
  const endpoint = await signInEndpoint(cmd);
  // A token file can be read again for the next token (--refresh modes renew with it); an inline token cannot.
  const renew = opts.tokenFile !== undefined ? { kind: 'oidc-token-file' as const, token_file: resolve(opts.tokenFile) } : undefined;
  const want = { endpoint, tenant: opts.tenant, scopes: parseScopes(opts.scope), duration: opts.duration, output: opts.output, renew };
  requireOneTokenSource(opts);
  if (await storedTokenSuffices(want, opts.ensure)) return;
  await signIn(want, await readTokenSource(opts));
}

/** `fedbroker auth exchange-oidc-token`: sign in with a token from a trusted OIDC issuer. */
export function registerExchangeOidcToken(auth: Command): void {
  const [token, tokenFile] = tokenSourceOptions(
    'the OIDC token (prefer --token-file: command lines are visible to other users)',
    'file holding the OIDC token',
  );
  auth
    .command('exchange-oidc-token')
    .description('exchange an OIDC token from a trusted issuer for a fedbroker access token, stored for later commands')
    .addOption(tenantOption('tenant whose trust relationships admit the token'))
    .addOption(token)
    .addOption(tokenFile)
    .addOption(scopeOption())
    .addOption(durationFlag())
    .addOption(ensureOption())
    .addOption(outputOption(['plain', 'json'], 'plain'))
    .action(exchangeOidcToken);
}

import type { Command } from 'commander';
import { signInEndpoint } from '../../context.ts';
import { formatDuration } from '../../duration.ts';
import { durationFlag, scopeOption, tenantOption } from '../../options.ts';
import { notice, type OutputFormat, outputOption, printJson } from '../../output.ts';
import { describe, parseScopes } from '../../sign-in.ts';
import { secondsLeft, writeStoredToken } from '../../token-file.ts';
import { certificateOptions, certificateSession, storedFrom } from '../../x509.ts';

interface ExchangeX509Options {
  tenant: string;
  certificate?: string;
  privateKey?: string;
  intermediates?: string;
  scope?: string;
  duration?: number;
  output: OutputFormat;
}

async function exchangeX509(opts: ExchangeX509Options, cmd: Command): Promise<void> {
  const endpoint = await signInEndpoint(cmd);
  const scopes = parseScopes(opts.scope);
  const response = await certificateSession(
    endpoint,
    opts.tenant,
    { certificate: opts.certificate, privateKey: opts.privateKey, intermediates: opts.intermediates },
    { durationSeconds: opts.duration, scope: scopes?.join(' ') },
  );
  const stored = storedFrom(endpoint, opts.tenant, response);
  await writeStoredToken(stored);
  notice(`signed in as ${stored.sub} (scopes: ${stored.scope || 'none'}), valid for ${formatDuration(secondsLeft(stored))}`);
  if (opts.output === 'json') printJson(describe(stored));
}

/**
 * `fedbroker auth exchange-x509`: sign in with a certificate and its private key — a session
 * request signed the IAM Roles Anywhere way (docs/x509.md) — storing the access token like
 * `exchange-oidc-token` does. The key comes from a file or standard input, never from argv.
 */
export function registerExchangeX509(auth: Command): void {
  certificateOptions(
    auth
      .command('exchange-x509')
      .description(
        'sign a session request with a certificate (IAM Roles Anywhere signing) for a fedbroker access token, stored for later commands',
      ),
  )
    .addOption(tenantOption('tenant whose trust anchors and x509 relationships admit the certificate'))
    .addOption(scopeOption())
    .addOption(durationFlag())
    .addOption(outputOption(['plain', 'json'], 'plain'))
    .action(exchangeX509);
}

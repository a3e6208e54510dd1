import { type Command, InvalidArgumentError } from 'commander';
import { API_ROUTES, apiPath } from '../../../lib/api-paths.ts';
import { readTokenSource, storedTokenFor } from '../../context.ts';
import { usageError } from '../../errors.ts';
import { callBroker } from '../../http.ts';
import { tenantGuardOption, tokenSourceOptions } from '../../options.ts';
import { notice, type OutputFormat, outputOption, printJson } from '../../output.ts';

interface RevokeOptions {
  jti?: string;
  exp?: number;
  token?: string;
  tokenFile?: string;
  tenant?: string;
  output: OutputFormat;
}

interface RevokeAnswer {
  jti?: string;
  expires_at?: number;
  revoked: boolean;
  reason?: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function jtiArgument(text: string): string {
  if (!UUID.test(text)) throw new InvalidArgumentError('a token id (jti) is a UUID');
  return text.toLowerCase();
}

function epochArgument(text: string): number {
  if (!/^\d{1,12}$/.test(text)) throw new InvalidArgumentError('the token’s exp, in epoch seconds');
  return Number(text);
}

/** The request body, from exactly one of `--jti/--exp` and `--token/--token-file` (checked before any I/O). */
async function revocationBody(opts: RevokeOptions): Promise<Record<string, unknown>> {
  const byId = opts.jti !== undefined || opts.exp !== undefined;
  const byToken = opts.token !== undefined || opts.tokenFile !== undefined;
  if (byId === byToken) throw usageError('give either --jti with --exp, or the token itself with --token or --token-file');
  if (byId) {
    if (opts.jti === undefined || opts.exp === undefined) throw usageError('--jti and --exp go together');
    return { jti: opts.jti, exp: opts.exp };
  }
  return { token: await readTokenSource(opts) };
}

async function revokeToken(opts: RevokeOptions, cmd: Command): Promise<void> {
  const body = await revocationBody(opts);
  const stored = await storedTokenFor(cmd, opts.tenant);
  const res = await callBroker(stored.endpoint, apiPath(API_ROUTES.revocations, { tenant: stored.tenant }), {
    method: 'POST',
    headers: { Authorization: `Bearer ${stored.access_token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  const answer = res.body as RevokeAnswer;
  if (opts.output === 'json') return printJson(answer);
  const which = answer.jti ? `access token ${answer.jti}` : 'the access token';
  if (!answer.revoked) return notice(`nothing to revoke: ${which} has already expired`);
  const until = answer.expires_at !== undefined ? new Date(answer.expires_at * 1000).toISOString() : 'its expiry';
  notice(
    `revoked ${which} of tenant ${stored.tenant}: refused until ${until}, ` +
      `by every container within FEDBROKER_TENANT_CACHE_SECONDS (15 s by default)`,
  );
}

/** `fedbroker auth revoke-token`: put one of the tenant's access tokens on the deny list (needs trust:admin). */
export function registerRevokeToken(auth: Command): void {
  const [token, tokenFile] = tokenSourceOptions(
    'the access token to revoke (prefer --token-file: command lines are visible to other users)',
    'file holding the access token to revoke',
  );
  auth
    .command('revoke-token')
    .description(
      "revoke one of the stored token's tenant's access tokens, " +
        'refused within FEDBROKER_TENANT_CACHE_SECONDS (needs the trust:admin scope)',
    )
    .option('--jti <jti>', 'id of the token to revoke (its jti claim), with --exp', jtiArgument)
    .option('--exp <seconds>', 'the token’s exp claim (epoch seconds), with --jti', epochArgument)
    .addOption(token)
    .addOption(tokenFile)
    .addOption(tenantGuardOption())
    .addOption(outputOption(['plain', 'json'], 'plain'))
    .action(revokeToken);
}

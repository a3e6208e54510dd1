import { decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoAuditLog } from '../../../../../lib/aws/dynamo-audit-log.ts';
import { DynamoKeyStore } from '../../../../../lib/aws/dynamo-key-store.ts';
import { Table } from '../../../../../lib/aws/dynamo-table.ts';
import { startBroker, type TestBroker } from '../../../../support/broker.ts';
import { awsEnv, builtCli, cliRunner, tempConfigHome, type RunCli } from '../../../../support/cli.ts';
import { postExchange, TOKEN_TYPE } from '../../../../support/exchange-client.ts';
import { startGateway } from '../../../../support/gateway.ts';
import { tenantAdmin } from '../../../../support/tenants.ts';
import { startUpstreamIssuer, type UpstreamIssuer } from '../../../../support/upstream-issuer.ts';

let broker: TestBroker;
let gateway: Awaited<ReturnType<typeof startGateway>>;
let upstream: UpstreamIssuer;
let cli: RunCli;
let signerEnv: Record<string, string>;
let bootstrapKid: string;
let nextKid: string;

const KID = '[\\w-]{43}';

/** The kids the gateway publishes, as a verifier sees them after every broker container restarted. */
async function publishedAfterColdStart(): Promise<string[]> {
  broker.coldStart();
  const jwks = (await (await fetch(`${gateway.url}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] };
  return jwks.keys.map((k) => k.kid).sort();
}

/** The kid in the header of an ID token the broker issues now. */
async function signingKid(): Promise<string> {
  const at = await postExchange(gateway.url, {
    subject_token: await upstream.token({ sub: 'ops' }),
    subject_token_type: TOKEN_TYPE.idToken,
    tenant: 'acme',
  });
  const id = await postExchange(gateway.url, {
    subject_token: at.body.access_token,
    subject_token_type: TOKEN_TYPE.accessToken,
    requested_token_type: TOKEN_TYPE.idToken,
    audience: 'sts.amazonaws.com',
  });
  return String(decodeProtectedHeader(id.body.access_token).kid);
}

beforeAll(async () => {
  [broker, upstream] = await Promise.all([startBroker({ env: { FEDBROKER_LOCAL: 'true' } }), startUpstreamIssuer(), builtCli()]);
  gateway = await startGateway((m) => broker.load(m));
  await tenantAdmin(broker.tableName).tenant('acme', [
    {
      kind: 'oidc',
      id: 'ops',
      issuer: upstream.issuer,
      audiences: ['fedbroker'],
      conditions: { StringEquals: { sub: 'ops' } },
      scopes: ['id-token:issue'],
    },
  ]);
  // The deployment's first token registers the stack key as the active key.
  bootstrapKid = await signingKid();
  // What the operator sets: the deployment's table, signer and key; no issuer.
  const keys = ['AWS_ENDPOINT_URL_KMS', 'FEDBROKER_SIGNER', 'FEDBROKER_KMS_KEY_ID', 'FEDBROKER_SIGNING_ALG'];
  signerEnv = { ...awsEnv(broker.env), ...Object.fromEntries(keys.map((k) => [k, broker.env[k] as string])) };
  const home = tempConfigHome();
  cli = cliRunner({ HOME: home, XDG_CONFIG_HOME: home, ...signerEnv });
});
afterAll(async () => {
  await Promise.all([gateway?.close(), upstream?.close()]);
  await broker?.close();
});

describe('fedbroker admin rotate-keys', () => {
  it('publishes a next key and, before pre-publication ends, says when it may sign, with exit 0', async () => {
    const res = await cli(['admin', 'rotate-keys']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(new RegExp(`^${KID}  none → next\\n$`));
    nextKid = res.stdout.split(' ')[0] ?? '';
    expect(res.stderr).toMatch(
      new RegExp(
        `^fedbroker: next key ${nextKid} is published until \\S+ before it may sign; ` +
          'use --force in an emergency; run rotate-keys again from then\\n$',
      ),
    );
    expect(await publishedAfterColdStart()).toEqual([bootstrapKid, nextKid].sort());
    expect(await signingKid()).toBe(bootstrapKid);
  });

  it('activates the next key with --force and prints each key event', async () => {
    const res = await cli(['admin', 'rotate-keys', '--force']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toBe(`${nextKid}  next → active  (forced)\n${bootstrapKid}  active → retired  (forced)\n`);
    expect(res.stderr).toContain('fedbroker: forced: the new key signs before verifiers caching the JWKS may have seen it');
    expect(res.stderr).toContain('running broker instances use the new key registry within FEDBROKER_KEY_CACHE_SECONDS (60s)');
    expect(await publishedAfterColdStart()).toEqual([bootstrapKid, nextKid].sort());
    expect(await signingKid()).toBe(nextKid);
    const { active } = await new DynamoKeyStore(new Table(broker.tableName)).readRegistry();
    expect(active?.kid).toBe(nextKid);
  });

  it('records every key event in the audit trail as the CLI operator, forced ones marked', async () => {
    const since = new Date(Date.now() - 3600_000).toISOString();
    const until = new Date(Date.now() + 60_000).toISOString();
    const { items } = await new DynamoAuditLog(new Table(broker.tableName)).query('_system', {
      since,
      until,
      principal: 'operator:cli',
      limit: 50,
    });
    expect(items.map((r) => [r.event, r.target, r.detail])).toEqual([
      ['key.state_change', nextKid, { from: 'none', to: 'next', forced: false }],
      ['key.state_change', nextKid, { from: 'next', to: 'active', forced: true }],
      ['key.state_change', bootstrapKid, { from: 'active', to: 'retired', forced: true }],
    ]);
  });

  it('refuses with exit 2 when the signer configuration is missing or differs from the active key', async () => {
    const missing = await cli(['admin', 'rotate-keys'], { FEDBROKER_KMS_KEY_ID: undefined });
    expect(missing).toMatchObject({ code: 2, stdout: '' });
    expect(missing.stderr).toMatch(
      new RegExp(
        String.raw`^fedbroker: usage_error: set the signer configuration the deployment uses \(see --help\): ` +
          String.raw`FEDBROKER_KMS_KEY_ID is required with FEDBROKER_SIGNER=kms\n$`,
      ),
    );
    const otherAlg = await cli(['admin', 'rotate-keys', '--force'], { FEDBROKER_SIGNING_ALG: 'ES256' });
    expect(otherAlg).toMatchObject({ code: 2, stdout: '' });
    expect(otherAlg.stderr).toContain(`the active key ${nextKid} is kms/RS256, but FEDBROKER_SIGNER/FEDBROKER_SIGNING_ALG say kms/ES256`);
  });
});

describe('fedbroker admin revoke-key', () => {
  it('takes a retired key out of the JWKS', async () => {
    const res = await cli(['admin', 'revoke-key', bootstrapKid]);
    expect(res).toMatchObject({ code: 0, stdout: `${bootstrapKid}  retired → revoked  (forced)\n` });
    expect(await publishedAfterColdStart()).toEqual([nextKid]);
  });

  it('replaces the active key at once when it is the one revoked, and reports with -o json', async () => {
    const res = await cli(['admin', 'revoke-key', nextKid, '-o', 'json']);
    expect(res.code, res.stderr).toBe(0);
    const { events } = JSON.parse(res.stdout) as { events: { kid: string; from: string; to: string; forced: boolean; actor: string }[] };
    const replacement = events[0]?.kid ?? '';
    expect(events).toEqual([
      { kid: replacement, from: 'none', to: 'next', forced: true, actor: 'operator:cli' },
      { kid: replacement, from: 'next', to: 'active', forced: true, actor: 'operator:cli' },
      { kid: nextKid, from: 'active', to: 'revoked', forced: true, actor: 'operator:cli' },
    ]);
    expect(await publishedAfterColdStart()).toEqual([replacement]);
    expect(await signingKid()).toBe(replacement);
  });

  it('reports a key that is not published with exit 1', async () => {
    const res = await cli(['admin', 'revoke-key', bootstrapKid]);
    expect(res).toMatchObject({ code: 1, stdout: '' });
    expect(res.stderr).toBe(`fedbroker: not_found: no published key ${bootstrapKid}\n`);
  });

  it('exits 2 for a malformed kid or a missing table, before touching AWS', async () => {
    expect((await cli(['admin', 'revoke-key', 'not a kid'])).code).toBe(2);
    const noTable = await cli(['admin', 'rotate-keys'], { FEDBROKER_TABLE: undefined });
    expect(noTable).toMatchObject({ code: 2, stderr: 'fedbroker: usage_error: name the DynamoDB table with --table or FEDBROKER_TABLE\n' });
  });
});

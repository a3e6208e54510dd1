import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type TestBroker } from '../../../../support/broker.ts';
import { builtCli, cliRunner, tempConfigHome, tempFile, type RunCli } from '../../../../support/cli.ts';
import { startCognitoStandIn, type CognitoStandIn } from '../../../../support/cognito-stand-in.ts';
import { startGateway } from '../../../../support/gateway.ts';
import { listen, readBody } from '../../../../support/http-server.ts';
import { tenantAdmin } from '../../../../support/tenants.ts';
import { startUpstreamIssuer, type UpstreamIssuer } from '../../../../support/upstream-issuer.ts';

let broker: TestBroker;
let gateway: Awaited<ReturnType<typeof startGateway>>;
let cognito: CognitoStandIn;
let upstream: UpstreamIssuer;
let tenants: ReturnType<typeof tenantAdmin>;
let pool: string;
let untrustedPool: string;
let foreignPool: string;
let vendPool: string;
let admin: RunCli;

/** The workload's own AWS credentials (SDK default chain: environment), and where Cognito is. */
const WORKLOAD_AWS = { AWS_ACCESS_KEY_ID: 'AKIAWORKLOAD', AWS_SECRET_ACCESS_KEY: 'workload-secret', AWS_EC2_METADATA_DISABLED: 'true' };
const exchangeArgs = (identityPool: string, tenant = 'acme') => [
  'auth',
  'exchange-aws-cognito-token',
  '--aws-region',
  'us-east-1',
  '--identity-pool',
  identityPool,
  '--tenant',
  tenant,
];

/** A runner with its own config home, reaching the broker and the Cognito stand-in at `cognitoUrl`. */
function workload(cognitoUrl = cognito.url, aws: Record<string, string> = WORKLOAD_AWS): { run: RunCli; home: string } {
  const home = tempConfigHome();
  return {
    home,
    run: cliRunner({
      HOME: home,
      XDG_CONFIG_HOME: home,
      FEDBROKER_ENDPOINT: gateway.url,
      AWS_ENDPOINT_URL_COGNITO_IDENTITY: cognitoUrl,
      ...aws,
    }),
  };
}
const storedToken = (home: string) => JSON.parse(readFileSync(join(home, 'fedbroker', 'token.json'), 'utf8')) as Record<string, string>;

beforeAll(async () => {
  [cognito, upstream] = await Promise.all([startCognitoStandIn(), startUpstreamIssuer(), builtCli()]);
  broker = await startBroker({
    env: { FEDBROKER_LOCAL: 'true', FEDBROKER_COGNITO_ISSUER: cognito.url, AWS_ENDPOINT_URL_COGNITO_IDENTITY: cognito.url },
  });
  gateway = await startGateway((m) => broker.load(m));
  pool = cognito.createPool({ developerProvider: 'fedbroker' });
  untrustedPool = cognito.createPool({ developerProvider: 'fedbroker' });
  vendPool = cognito.createPool({ developerProvider: 'fedbroker' });
  foreignPool = cognito.createPool({ developerProvider: 'someone-else' });
  tenants = tenantAdmin(broker.tableName, { cognitoIssuer: cognito.url });
  const ops = {
    kind: 'oidc' as const,
    id: 'admin',
    issuer: upstream.issuer,
    audiences: ['fedbroker'],
    conditions: { StringEquals: { sub: 'ops' } },
  };
  await tenants.tenant('acme', [{ ...ops, scopes: ['trust:admin', 'id-token:issue', 'aws:cognito'] }]);
  await tenants.tenant('globex', [
    { ...ops, scopes: ['trust:admin'] },
    { kind: 'aws-cognito', id: 'ecs', region: 'us-east-1', identity_pool_id: pool, scopes: ['id-token:issue'] },
  ]);
  // The operator's CLI, signed in to acme as admin; no AWS credentials of its own.
  admin = workload(cognito.url, {}).run;
  const res = await admin(['auth', 'exchange-oidc-token', '--tenant', 'acme', '--token', await upstream.token({ sub: 'ops' })]);
  expect(res.code, res.stderr).toBe(0);
});
afterAll(async () => {
  await Promise.all([gateway?.close(), upstream?.close()]);
  await broker?.close();
  await cognito?.close();
});

describe('fedbroker auth trust-aws-cognito-identity-pool', () => {
  it('adds a kind "aws-cognito" relationship for the pool through the admin API', async () => {
    const res = await admin([
      'auth',
      'trust-aws-cognito-identity-pool',
      '--aws-region',
      'us-east-1',
      '--identity-pool',
      pool,
      '--tenant',
      'acme',
      '--id',
      'ecs',
    ]);
    expect(res).toMatchObject({ code: 0, stdout: '' });
    expect(res.stderr).toBe(
      `fedbroker: created trust relationship ecs (version 1): tenant acme admits identities of ${pool} ` +
        `(developer provider of the deployment)\n`,
    );
    const got = await admin(['auth', 'trust-relationships', 'get', 'ecs']);
    expect(JSON.parse(got.stdout)).toMatchObject({
      kind: 'aws-cognito',
      region: 'us-east-1',
      identity_pool_id: pool,
      scopes: ['id-token:issue'],
      version: 1,
    });
  });

  it('refuses locally when the stored token belongs to another tenant, and writes nothing', async () => {
    const before = (await tenants.store.readTenant('globex')).relationships.length;
    const res = await admin([
      'auth',
      'trust-aws-cognito-identity-pool',
      '--aws-region',
      'us-east-1',
      '--identity-pool',
      untrustedPool,
      '--tenant',
      'globex',
    ]);
    expect(res).toMatchObject({ code: 1, stdout: '' });
    expect(res.stderr).toBe(
      'fedbroker: tenant_mismatch: the stored token belongs to tenant acme; run fedbroker auth exchange-oidc-token --tenant globex first\n',
    );
    expect((await tenants.store.readTenant('globex')).relationships).toHaveLength(before);
  });

  it('exits 2 when --aws-region is not the pool’s region', async () => {
    const res = await admin([
      'auth',
      'trust-aws-cognito-identity-pool',
      '--aws-region',
      'eu-west-1',
      '--identity-pool',
      pool,
      '--tenant',
      'acme',
    ]);
    expect(res).toMatchObject({ code: 2, stdout: '' });
    expect(res.stderr).toBe(`fedbroker: usage_error: identity pool ${pool} is in us-east-1, not --aws-region eu-west-1\n`);
  });
});

describe('fedbroker auth exchange-aws-cognito-token', () => {
  it('gets a Cognito token with the workload’s AWS credentials and stores the fedbroker token like exchange-oidc-token', async () => {
    const { run, home } = workload();
    const getIdCalls = cognito.calls.GetId;
    const res = await run(exchangeArgs(pool));
    expect(res).toMatchObject({ code: 0, stdout: '' });
    expect(cognito.lastRequest).toEqual({ IdentityPoolId: pool, Logins: { fedbroker: 'acme' } });
    expect(cognito.calls.GetId).toBe(getIdCalls);
    const stored = storedToken(home);
    expect(stored).toMatchObject({
      endpoint: gateway.url,
      tenant: 'acme',
      scope: 'id-token:issue',
      sub: expect.stringMatching(/^acme\/ecs\/us-east-1:[0-9a-f-]{36}$/),
    });
    expect(res.stderr.startsWith(`fedbroker: signed in as ${stored.sub} (scopes: id-token:issue), valid for `)).toBe(true);
    expect(res.stderr).toMatch(/valid for 1[45]m\d*s?\n$/);
    expect(statSync(join(home, 'fedbroker', 'token.json')).mode & 0o777).toBe(0o600);

    const id = await run(['auth', 'issue-id-token', '--audience', 'sts.amazonaws.com']);
    expect(decodeJwt(id.stdout.trim()).sub).toBe(stored.sub);
    const calls = cognito.calls.GetOpenIdTokenForDeveloperIdentity;
    const ensured = await run([...exchangeArgs(pool), '--ensure', '5m']);
    expect(ensured.stderr).toContain('nothing exchanged');
    expect(cognito.calls.GetOpenIdTokenForDeveloperIdentity).toBe(calls);
  });

  it('uses the named --aws-profile instead of the default credential chain', async () => {
    const dir = tempConfigHome();
    writeFileSync(join(dir, 'credentials'), '[workload]\naws_access_key_id = AKIAPROFILE\naws_secret_access_key = profile-secret\n');
    const files = {
      AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'),
      AWS_CONFIG_FILE: join(dir, 'config'),
      AWS_EC2_METADATA_DISABLED: 'true',
    };
    const { run } = workload(cognito.url, files);
    expect((await run([...exchangeArgs(pool), '--aws-profile', 'workload'])).code).toBe(0);
    const none = await run(exchangeArgs(pool));
    expect(none).toMatchObject({ code: 1, stdout: '' });
    expect(none.stderr).toMatch(
      new RegExp(
        '^fedbroker: no_aws_credentials: Cognito GetOpenIdTokenForDeveloperIdentity on ' +
          String.raw`us-east-1:[0-9a-f-]+: no usable AWS credentials \(.+\); .+\n$`,
      ),
    );
  });

  it('passes the broker’s invalid_request through for a pool the tenant does not trust, leaving the stored token alone', async () => {
    const { run, home } = workload();
    await run(exchangeArgs(pool));
    const before = storedToken(home);
    const res = await run(exchangeArgs(untrustedPool));
    expect(res).toMatchObject({ code: 1, stdout: '' });
    expect(res.stderr).toMatch(/^fedbroker: invalid_request: .+\n$/);
    expect(storedToken(home)).toEqual(before);
  });

  it('refuses a Cognito token whose developer user id is another tenant (a login rewritten on its way to Cognito)', async () => {
    // The CLI always names its own tenant; a forged login is what the broker must catch.
    const proxy = await listen(async (req, res) => {
      const body = (await readBody(req)).replace('"fedbroker":"acme"', '"fedbroker":"globex"');
      const headers = Object.fromEntries(
        Object.entries(req.headers).filter(([k]) => !['host', 'content-length', 'connection'].includes(k)),
      ) as Record<string, string>;
      const answer = await fetch(`${cognito.url}${req.url ?? '/'}`, { method: req.method, headers, body });
      res.writeHead(answer.status, Object.fromEntries(answer.headers)).end(await answer.text());
    });
    const res = await workload(proxy.url).run(exchangeArgs(pool));
    await proxy.close();
    expect(cognito.lastRequest).toMatchObject({ Logins: { fedbroker: 'globex' } });
    expect(res).toMatchObject({ code: 1, stdout: '' });
    expect(res.stderr).toMatch(/^fedbroker: invalid_request: .+\n$/);
  });

  it('reports Cognito’s own refusal in one line (a pool with another developer provider)', async () => {
    const res = await workload().run(exchangeArgs(foreignPool));
    expect(res).toMatchObject({ code: 1, stdout: '' });
    expect(res.stderr).toMatch(
      new RegExp(
        '^fedbroker: not_authorized: Cognito GetOpenIdTokenForDeveloperIdentity on ' +
          String.raw`us-east-1:[0-9a-f-]+: NotAuthorizedException: Logins don't match.+\n$`,
      ),
    );
  });
});

describe('fedbroker auth cognito-identity-pools', () => {
  const CIP = ['auth', 'cognito-identity-pools'];

  it('adds a pool from a file validated locally, lists it and gets it by its id', async () => {
    await tenants.allowPool('acme', vendPool);
    const added = await admin([
      ...CIP,
      'add',
      '--file',
      tempFile('pool.json', JSON.stringify({ identity_pool_id: vendPool, max_duration_seconds: 3600 })),
    ]);
    expect(added).toMatchObject({ code: 0, stdout: '', stderr: `fedbroker: added identity pool ${vendPool} (version 1)\n` });
    expect((await admin([...CIP, 'list', '-o', 'plain'])).stdout).toBe(`${vendPool}\n`);
    expect((await admin([...CIP, 'list'])).stdout).toMatch(
      new RegExp(
        `^IDENTITY_POOL_ID +DEVELOPER_PROVIDER +MAX_DURATION +PRINCIPAL_TAGS +ENABLED +VERSION\\n${vendPool} +- +3600 +false +true +1\\n$`,
      ),
    );
    const got = await admin([...CIP, 'get', vendPool]);
    expect(JSON.parse(got.stdout)).toMatchObject({ identity_pool_id: vendPool, tenant: 'acme', max_duration_seconds: 3600, version: 1 });
  });

  it('refuses an invalid document with exit 2, listing the schema issues', async () => {
    const res = await admin([
      ...CIP,
      'add',
      '--file',
      tempFile('bad.json', JSON.stringify({ identity_pool_id: 'nope', max_duration_seconds: 999999 })),
    ]);
    expect(res).toMatchObject({ code: 2, stdout: '' });
    expect(res.stderr).toMatch(
      new RegExp(
        String.raw`^fedbroker: usage_error: .*bad\.json is not a valid identity pool: identity_pool_id: must ` +
          String.raw`be <region>:<guid>; max_duration_seconds: .+\n$`,
      ),
    );
  });

  it('refuses an update with neither --if-match nor --force, saying how to find the version', async () => {
    const res = await admin([
      ...CIP,
      'update',
      vendPool,
      '--file',
      tempFile('pool.json', JSON.stringify({ identity_pool_id: vendPool, max_duration_seconds: 900 })),
    ]);
    expect(res).toMatchObject({ code: 2, stdout: '' });
    expect(res.stderr).toBe(
      `fedbroker: usage_error: update ${vendPool} needs --if-match <version>, the version you last read ` +
        `(see it with: fedbroker auth cognito-identity-pools get ${vendPool}, field "version"), or --force ` +
        `to overwrite whatever version is current\n`,
    );
    expect(JSON.parse((await admin([...CIP, 'get', vendPool])).stdout)).toMatchObject({ max_duration_seconds: 3600, version: 1 });
  });

  it('refuses an update at a stale --if-match, and applies one at the current version', async () => {
    const file = tempFile('pool.json', JSON.stringify({ identity_pool_id: vendPool, max_duration_seconds: 1800 }));
    const stale = await admin([...CIP, 'update', vendPool, '--file', file, '--if-match', '7']);
    expect(stale).toMatchObject({ code: 1, stdout: '', stderr: 'fedbroker: precondition_failed: version 7 is not current\n' });
    const res = await admin([...CIP, 'update', vendPool, '--file', file, '--if-match', '1', '-o', 'json']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toBe(`fedbroker: updated identity pool ${vendPool} (version 2)\n`);
    expect(JSON.parse(res.stdout)).toMatchObject({ max_duration_seconds: 1800, version: 2 });
  });
});

describe('fedbroker aws cognito-credentials', () => {
  it('prints export lines for the credentials Cognito gives the vended identity, with no AWS credentials of its own', async () => {
    const res = await admin(['aws', 'cognito-credentials', '--identity-pool', vendPool, '--duration', '10m']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(
      new RegExp(
        String.raw`^export AWS_ACCESS_KEY_ID=ASIA\w+\nexport AWS_SECRET_ACCESS_KEY=\S+\nexport ` +
          String.raw`AWS_SESSION_TOKEN=\S+\nexport AWS_CREDENTIAL_EXPIRATION=\S+Z\n$`,
      ),
    );
    expect(res.stderr).toMatch(/^fedbroker: credentials of identity us-east-1:[0-9a-f-]+ in us-east-1:[0-9a-f-]+, valid until \S+Z\n$/);
    expect(cognito.lastRequest).toMatchObject({
      IdentityId: expect.stringMatching(/^us-east-1:/),
      Logins: { 'cognito-identity.amazonaws.com': expect.stringMatching(/^eyJ/) },
    });
  });

  it('prints the credential_process JSON with -o json, and writes a 0600 file with --write-env', async () => {
    const json = await admin(['aws', 'cognito-credentials', '--identity-pool', vendPool, '-o', 'json']);
    expect(Object.keys(JSON.parse(json.stdout))).toEqual(['Version', 'AccessKeyId', 'SecretAccessKey', 'SessionToken', 'Expiration']);
    const file = join(tempConfigHome(), 'cognito.env');
    const written = await admin(['aws', 'cognito-credentials', '--identity-pool', vendPool, '--write-env', file]);
    expect(written).toMatchObject({ code: 0, stdout: '' });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toMatch(/^export AWS_ACCESS_KEY_ID=ASIA/);
  });

  it('passes the broker’s refusal through for a pool not configured for the tenant', async () => {
    const res = await admin(['aws', 'cognito-credentials', '--identity-pool', untrustedPool]);
    expect(res).toMatchObject({ code: 1, stdout: '' });
    expect(res.stderr).toBe(`fedbroker: access_denied: identity pool ${untrustedPool} is not configured for this tenant\n`);
  });

  it('stops vending once the pool is removed', async () => {
    const unconditional = await admin(['auth', 'cognito-identity-pools', 'remove', vendPool]);
    expect(unconditional).toMatchObject({ code: 2, stdout: '' });
    expect(unconditional.stderr).toBe(
      `fedbroker: usage_error: remove ${vendPool} needs --if-match <version>, the version you last read ` +
        `(see it with: fedbroker auth cognito-identity-pools get ${vendPool}, field "version"), or --force ` +
        `to remove whatever version is current\n`,
    );
    const removed = await admin(['auth', 'cognito-identity-pools', 'remove', vendPool, '--force']);
    expect(removed).toMatchObject({
      code: 0,
      stderr: `fedbroker: removed identity pool ${vendPool} (was version 2, removed with --force)\n`,
    });
    expect((await admin(['aws', 'cognito-credentials', '--identity-pool', vendPool])).code).toBe(1);
    expect((await admin(['auth', 'cognito-identity-pools', 'get', vendPool])).stderr).toMatch(/^fedbroker: not_found: /);
  });
});

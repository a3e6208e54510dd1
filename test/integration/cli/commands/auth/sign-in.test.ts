import { readFileSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type TestBroker } from '../../../../support/broker.ts';
import { awsEnv, builtCli, cliRunner, tempConfigHome, tempFile, type RunCli } from '../../../../support/cli.ts';
import { startGateway } from '../../../../support/gateway.ts';
import { startUpstreamIssuer, type UpstreamIssuer } from '../../../../support/upstream-issuer.ts';

const ISSUER = 'https://issuer.fedbroker.test';
const JWT_LINE = /^[\w-]+\.[\w-]+\.[\w-]+\n$/;

let broker: TestBroker;
let gateway: Awaited<ReturnType<typeof startGateway>>;
let upstream: UpstreamIssuer;
let home: string;
let cli: RunCli;

const tokenPath = () => join(home, 'fedbroker', 'token.json');
const stored = () => JSON.parse(readFileSync(tokenPath(), 'utf8')) as Record<string, unknown>;

beforeAll(async () => {
  [broker, upstream] = await Promise.all([startBroker({ env: { FEDBROKER_LOCAL: 'true' } }), startUpstreamIssuer(), builtCli()]);
  gateway = await startGateway((m) => broker.load(m));
  home = tempConfigHome();
  cli = cliRunner({ HOME: home, XDG_CONFIG_HOME: home, FEDBROKER_ENDPOINT: gateway.url });
});
afterAll(async () => {
  await Promise.all([gateway?.close(), upstream?.close()]);
  await broker?.close();
});

describe('fedbroker auth: from a new tenant to an ID token', () => {
  it('bootstraps a tenant and its admin relationship with admin create-tenant', async () => {
    const condition = JSON.stringify({ StringEquals: { sub: 'ci-admin' } });
    const args = [
      'admin',
      'create-tenant',
      'acme',
      '--name',
      'Acme',
      '--admin-issuer',
      upstream.issuer,
      '--admin-audience',
      'fedbroker',
      '--admin-condition',
      condition,
      '--local',
    ];
    const res = await cli(args, awsEnv(broker.env));
    expect(res).toMatchObject({ code: 0, stdout: '' });
    expect(res.stderr).toContain('created tenant acme');
    expect(res.stderr).toContain('created trust relationship admin');
  });

  it('exchanges an OIDC token and stores the access token 0600 in a 0700 directory', async () => {
    const file = tempFile('oidc-token', `${await upstream.token({ sub: 'ci-admin' })}\n`);
    const res = await cli(['auth', 'exchange-oidc-token', '--tenant', 'acme', '--token-file', file]);
    expect(res).toMatchObject({ code: 0, stdout: '' });
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    expect(res.stderr).toContain('signed in as acme/admin/ci-admin');

    expect(statSync(tokenPath()).mode & 0o777).toBe(0o600);
    expect(statSync(join(home, 'fedbroker')).mode & 0o777).toBe(0o700);
    const record = stored();
    expect(Object.keys(record).sort()).toEqual(['access_token', 'endpoint', 'expires_at', 'renew', 'scope', 'sub', 'tenant']);
    // Signed in from a file, so --refresh modes can renew the token by reading it again.
    expect(record.renew).toEqual({ kind: 'oidc-token-file', token_file: file });
    expect(record).toMatchObject({
      endpoint: gateway.url,
      tenant: 'acme',
      sub: 'acme/admin/ci-admin',
      scope: 'trust:admin id-token:issue',
    });
    const claims = decodeJwt(record.access_token as string);
    expect(new Date(record.expires_at as string).getTime()).toBe((claims.exp ?? 0) * 1000);
  });

  it('prints the stored record without the token with -o json', async () => {
    const res = await cli([
      'auth',
      'exchange-oidc-token',
      '--tenant',
      'acme',
      '--token',
      await upstream.token({ sub: 'ci-admin' }),
      '-o',
      'json',
    ]);
    expect(res.code).toBe(0);
    const printed = JSON.parse(res.stdout) as Record<string, unknown>;
    expect(printed).toEqual({
      endpoint: gateway.url,
      tenant: 'acme',
      sub: 'acme/admin/ci-admin',
      scope: 'trust:admin id-token:issue',
      expires_at: stored().expires_at,
    });
  });

  it('issues an ID token as exactly one line on stdout, verifiable against the broker JWKS', async () => {
    const res = await cli(['auth', 'issue-id-token', '--audience', 'sts.amazonaws.com', '--duration', '10m']);
    expect(res).toMatchObject({ code: 0, stderr: '' });
    expect(res.stdout).toMatch(JWT_LINE);
    const jwks = createRemoteJWKSet(new URL(`${gateway.url}/.well-known/jwks.json`));
    const { payload, protectedHeader } = await jwtVerify(res.stdout.trim(), jwks, { issuer: ISSUER, audience: 'sts.amazonaws.com' });
    expect(protectedHeader.typ).toBe('JWT');
    expect(payload.sub).toBe('acme/admin/ci-admin');
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(600);
  });

  it('prints the exchange response with -o json', async () => {
    const res = await cli(['auth', 'issue-id-token', '--audience', 'sts.amazonaws.com', '-o', 'json']);
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({
      issued_token_type: 'urn:ietf:params:oauth:token-type:id_token',
      token_type: 'N_A',
      expires_in: 900,
    });
  });

  it('prints the decoded header and payload, without the signature, with --decode', async () => {
    const res = await cli(['auth', 'issue-id-token', '--audience', 'sts.amazonaws.com', '--decode']);
    expect(res.code).toBe(0);
    const decoded = JSON.parse(res.stdout) as { header: Record<string, unknown>; payload: Record<string, unknown> };
    expect(Object.keys(decoded)).toEqual(['header', 'payload']);
    expect(decoded.header).toMatchObject({ alg: 'RS256', typ: 'JWT' });
    expect(decoded.payload).toMatchObject({ iss: ISSUER, aud: 'sts.amazonaws.com', sub: 'acme/admin/ci-admin' });
    expect(res.stdout).not.toMatch(/eyJ/);
  });
});

describe('fedbroker auth exchange-oidc-token --ensure', () => {
  it('makes no request while the stored token is valid long enough, and exchanges again when it is not', async () => {
    const own = tempConfigHome();
    const second = await startGateway((m) => broker.load(m));
    const env = { HOME: own, XDG_CONFIG_HOME: own, FEDBROKER_ENDPOINT: second.url };
    const file = tempFile('oidc-token', await upstream.token({ sub: 'ci-admin' }));
    const args = ['auth', 'exchange-oidc-token', '--tenant', 'acme', '--token-file', file];
    expect((await cli([...args, '--ensure', '10m'], env)).code).toBe(0);
    const before = readFileSync(join(own, 'fedbroker', 'token.json'), 'utf8');

    // With the broker unreachable, only a run that makes no request can succeed.
    await second.close();
    const skipped = await cli([...args, '--ensure', '10m'], env);
    expect(skipped).toMatchObject({ code: 0, stdout: '' });
    expect(skipped.stderr).toMatch(/valid for another \d+m\d*s?; nothing exchanged/);
    expect(readFileSync(join(own, 'fedbroker', 'token.json'), 'utf8')).toBe(before);

    const needed = await cli([...args, '--ensure', '1h'], env);
    expect(needed).toMatchObject({ code: 1, stdout: '' });
    expect(needed.stderr).toMatch(/^fedbroker: network_error: cannot reach http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED\n$/);

    const otherTenant = await cli(['auth', 'exchange-oidc-token', '--tenant', 'globex', '--token-file', file, '--ensure', '10m'], env);
    expect(otherTenant.code).toBe(1);
  });
});

describe('fedbroker auth failures', () => {
  it('reports a server refusal on stderr in one line, exits 1 and leaves stdout and the stored token alone', async () => {
    const before = readFileSync(tokenPath(), 'utf8');
    const res = await cli(['auth', 'exchange-oidc-token', '--tenant', 'acme', '--token', await upstream.token({ sub: 'intruder' })]);
    expect(res.code).toBe(1);
    expect(res.stdout).toBe('');
    expect(res.stderr).toMatch(/^fedbroker: invalid_request: .+\n$/);
    expect(readFileSync(tokenPath(), 'utf8')).toBe(before);
  });

  it('reports an audience the relationship does not allow as invalid_target', async () => {
    const res = await cli(['auth', 'issue-id-token', '--audience', 'https://elsewhere.example']);
    expect(res).toMatchObject({ code: 1, stdout: '' });
    expect(res.stderr).toMatch(/^fedbroker: invalid_target: .+\n$/);
  });

  it('tells the user to sign in first when there is no stored token, or it has expired', async () => {
    const empty = tempConfigHome();
    const none = await cli(['auth', 'issue-id-token', '--audience', 'sts.amazonaws.com'], { HOME: empty, XDG_CONFIG_HOME: empty });
    expect(none).toMatchObject({ code: 1, stdout: '' });
    expect(none.stderr).toBe('fedbroker: no_token: no stored access token; run fedbroker auth exchange-oidc-token first\n');

    mkdirSync(join(empty, 'fedbroker'), { recursive: true });
    writeFileSync(
      join(empty, 'fedbroker', 'token.json'),
      JSON.stringify({ ...stored(), expires_at: new Date(Date.now() - 1000).toISOString() }),
    );
    const expired = await cli(['auth', 'issue-id-token', '--audience', 'sts.amazonaws.com'], { HOME: empty, XDG_CONFIG_HOME: empty });
    expect(expired).toMatchObject({ code: 1, stdout: '' });
    // The command that signs in again the way the token was obtained (here: its token file).
    expect(expired.stderr).toMatch(/^fedbroker: token_expired: the stored access token has expired; renew it with: /);
    expect(expired.stderr).toMatch(/ fedbroker auth exchange-oidc-token --tenant acme --token-file (?:\S+|<a new OIDC token>)\n$/);
  });

  it('refuses to send the stored token to an endpoint other than the one that issued it', async () => {
    const res = await cli(['auth', 'issue-id-token', '--audience', 'sts.amazonaws.com', '--endpoint', 'http://127.0.0.1:9']);
    expect(res).toMatchObject({ code: 1, stdout: '' });
    expect(res.stderr).toContain(`the stored token was issued by ${gateway.url}`);
  });

  it.each([
    [['auth', 'issue-id-token'], /required option '--audience <audience>' not specified/],
    [['auth', 'issue-id-token', '--audience', 'x', '--duration', 'soon'], /invalid duration "soon"/],
    [['auth', 'issue-id-token', '--audience', 'x', '-o', 'yaml'], /argument 'yaml' is invalid/],
    [['auth', 'exchange-oidc-token', '--tenant', 'acme'], /give exactly one of --token and --token-file/],
    [
      ['auth', 'exchange-oidc-token', '--tenant', 'acme', '--token', 'a', '--token-file', 'b'],
      /give exactly one of --token and --token-file/,
    ],
    [['auth', 'exchange-oidc-token', '--tenant', 'Not A Tenant', '--token', 'a'], /a tenant id is 3-63/],
    [['auth', 'exchange-oidc-token', '--tenant', 'acme', '--token', 'a', '--scope', 'root'], /unknown scope root/],
    [['auth', 'exchange-oidc-token', '--tenant', 'acme', '--token', 'a', '--endpoint', 'http://broker.example'], /must use https/],
    [['auth', 'frobnicate'], /unknown command 'frobnicate'/],
    [['--no-such-option'], /unknown option '--no-such-option'/],
  ])('exits 2 with one usage line for %j', async (args, message) => {
    const res = await cli(args);
    expect(res).toMatchObject({ code: 2, stdout: '' });
    expect(res.stderr).toMatch(/^fedbroker: usage_error: .+\n$/);
    expect(res.stderr).toMatch(message);
  });

  it('shows help for every command and exits 0', async () => {
    for (const args of [
      [],
      ['auth'],
      ['auth', 'exchange-oidc-token'],
      ['auth', 'issue-id-token'],
      ['auth', 'trust-relationships'],
      ['auth', 'trust-relationships', 'update'],
      ['admin', 'create-tenant'],
    ]) {
      const res = await cli([...args, '--help']);
      expect(res.code).toBe(0);
      expect(res.stdout).toMatch(/^Usage: fedbroker/);
    }
  });
});

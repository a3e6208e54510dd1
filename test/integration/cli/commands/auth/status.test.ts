import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type TestBroker } from '../../../../support/broker.ts';
import { builtCli, cliRunner, type RunCli, tempConfigHome, tempFile } from '../../../../support/cli.ts';
import { startGateway } from '../../../../support/gateway.ts';
import { subjectRelationship, tenantAdmin } from '../../../../support/tenants.ts';
import { startUpstreamIssuer, type UpstreamIssuer } from '../../../../support/upstream-issuer.ts';

let broker: TestBroker;
let gateway: Awaited<ReturnType<typeof startGateway>>;
let upstream: UpstreamIssuer;
let home: string;
let cli: RunCli;
let tokenFile: string;

const tokenPath = () => join(home, 'fedbroker', 'token.json');
/** `fedbroker auth exchange-oidc-token --tenant acme --token-file <file> ...extra`. */
const signIn = (file: string, ...extra: string[]) =>
  cli(['auth', 'exchange-oidc-token', '--tenant', 'acme', '--token-file', file, ...extra]);

beforeAll(async () => {
  [broker, upstream] = await Promise.all([startBroker({ env: { FEDBROKER_LOCAL: 'true' } }), startUpstreamIssuer(), builtCli()]);
  gateway = await startGateway((m) => broker.load(m));
  await tenantAdmin(broker.tableName).tenant('acme', [subjectRelationship(upstream.issuer, 'ci', 'ci-job', ['id-token:issue'])]);
  home = tempConfigHome();
  // No FEDBROKER_ENDPOINT: after the first sign-in, the endpoint comes from the stored token.
  cli = cliRunner({ HOME: home, XDG_CONFIG_HOME: home, XDG_CACHE_HOME: join(home, 'cache') });
  tokenFile = tempFile('ci.jwt', await upstream.token({ sub: 'ci-job' }));
});
afterAll(async () => {
  await Promise.all([gateway?.close(), upstream?.close()]);
  await broker?.close();
});

describe('fedbroker auth status and logout', () => {
  it('says nobody is signed in, with exit 1', async () => {
    const res = await cli(['auth', 'status']);
    expect(res).toMatchObject({
      code: 1,
      stdout: '',
      stderr: 'fedbroker: no_token: not signed in; run fedbroker auth exchange-oidc-token first\n',
    });
  });

  it('shows endpoint, tenant, principal, scopes, expiry and how the token renews', async () => {
    const signedIn = await signIn(tokenFile, '--endpoint', gateway.url);
    expect(signedIn.code, signedIn.stderr).toBe(0);
    const res = await cli(['auth', 'status']);
    expect(res).toMatchObject({ code: 0, stderr: '' });
    expect(res.stdout).toContain(`endpoint:  ${gateway.url}\n`);
    expect(res.stdout).toContain('tenant:    acme\n');
    expect(res.stdout).toContain('principal: acme/ci/ci-job\n');
    expect(res.stdout).toContain('scopes:    id-token:issue\n');
    expect(res.stdout).toMatch(/^expires: {3}\d{4}-.+Z \(in \d+m/m);
    expect(res.stdout).toContain(`renewal:   re-reads ${tokenFile}`);
    const json = JSON.parse((await cli(['auth', 'status', '-o', 'json'])).stdout);
    expect(json).toMatchObject({ endpoint: gateway.url, tenant: 'acme', sub: 'acme/ci/ci-job', expired: false, renewable: true });
    expect(json).not.toHaveProperty('access_token');
  });

  it('signs in again at the stored endpoint: --ensure finds the token it keeps there', async () => {
    const res = await signIn(tokenFile, '--ensure', '1m');
    expect(res).toMatchObject({ code: 0, stdout: '' });
    expect(res.stderr).toContain('nothing exchanged');
  });

  it('reports an expired token with exit 1 and the command that renews it', async () => {
    const record = JSON.parse(readFileSync(tokenPath(), 'utf8'));
    const other = tempConfigHome();
    mkdirSync(join(other, 'fedbroker'));
    writeFileSync(
      join(other, 'fedbroker', 'token.json'),
      JSON.stringify({ ...record, expires_at: new Date(Date.now() - 1000).toISOString() }),
    );
    const res = await cli(['auth', 'status'], { HOME: other, XDG_CONFIG_HOME: other });
    expect(res.code).toBe(1);
    expect(res.stdout).toContain('(expired)');
    expect(res.stderr).toBe(
      'fedbroker: token_expired: the stored access token has expired; ' +
        `renew it with: fedbroker auth exchange-oidc-token --tenant acme --token-file ${tokenFile}\n`,
    );
  });

  it('logout removes the token and the cached AWS credentials', async () => {
    const cached = join(home, 'cache', 'fedbroker', 'aws-credentials');
    mkdirSync(cached, { recursive: true });
    writeFileSync(join(cached, 'x.json'), '{}');
    const res = await cli(['auth', 'logout']);
    expect(res).toMatchObject({ code: 0, stdout: '' });
    expect(res.stderr).toMatch(/^fedbroker: signed out: removed /);
    expect(existsSync(tokenPath())).toBe(false);
    expect(existsSync(cached)).toBe(false);
    expect((await cli(['auth', 'logout'])).stderr).toBe('fedbroker: not signed in; nothing to remove\n');
  });
});

describe('errors say what to do next', () => {
  it('points a refused sign-in to explain', async () => {
    const stranger = tempFile('stranger.jwt', await upstream.token({ sub: 'someone-else' }));
    const res = await signIn(stranger, '--endpoint', gateway.url);
    expect(res).toMatchObject({ code: 1, stdout: '' });
    expect(res.stderr).toMatch(
      new RegExp(
        '^fedbroker: invalid_request: .+; to see which trust relationship check refused it, an admin of tenant acme can run: ' +
          `fedbroker auth trust-relationships explain --token-file ${stranger}\\n$`,
      ),
    );
  });

  it('names the cap and the settings behind it when --duration is over it', async () => {
    const res = await signIn(tokenFile, '--duration', '5h', '--endpoint', gateway.url);
    expect(res).toMatchObject({ code: 1, stdout: '' });
    expect(res.stderr).toMatch(
      /^fedbroker: invalid_request: duration_seconds exceeds the maximum of \d+ allowed here: ask for --duration \S+ or less/,
    );
    expect(res.stderr).toContain('FEDBROKER_ACCESS_TOKEN_MAX_TTL');
  });

  it('refuses plain http off this machine unless --insecure, for a typed and for a stored endpoint', async () => {
    const typed = await signIn(tokenFile, '--endpoint', 'http://broker.example.com');
    expect(typed).toMatchObject({ code: 2, stdout: '' });
    expect(typed.stderr).toBe(
      'fedbroker: usage_error: --endpoint must use https (plain http only for localhost): ' +
        'add --insecure to send tokens unencrypted to broker.example.com\n',
    );
    // 127.0.0.2 is loopback to the kernel but not a name the CLI trusts for plain http: here it stands for any other host.
    const insecure = await signIn(tokenFile, '--endpoint', 'http://127.0.0.2:9', '--insecure');
    expect(insecure).toMatchObject({ code: 1 });
    expect(insecure.stderr).toMatch(/^fedbroker: network_error: cannot reach http:\/\/127\.0\.0\.2:9/);

    const other = tempConfigHome();
    mkdirSync(join(other, 'fedbroker'));
    const record = {
      endpoint: 'http://broker.example.com',
      tenant: 'acme',
      access_token: 'x',
      expires_at: new Date(Date.now() + 600_000).toISOString(),
      scope: '',
      sub: 'acme/ci/x',
    };
    writeFileSync(join(other, 'fedbroker', 'token.json'), JSON.stringify(record));
    const stored = await cli(['auth', 'issue-id-token', '--audience', 'x'], { HOME: other, XDG_CONFIG_HOME: other });
    expect(stored).toMatchObject({ code: 2, stdout: '' });
    expect(stored.stderr).toContain('add --insecure');
  });
});

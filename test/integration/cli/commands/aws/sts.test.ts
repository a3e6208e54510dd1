import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fromEnv, fromIni, fromProcess, fromTokenFile } from '@aws-sdk/credential-providers';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { TestBroker } from '../../../../support/broker.ts';
import { cliRunner, tempConfigHome, type RunCli } from '../../../../support/cli.ts';
import { spawnCli } from '../../../../support/cli-spawn.ts';
import { startGateway } from '../../../../support/gateway.ts';
import { exportsOf, type SignedInAwsCli, startSignedInAwsCli, withEnv } from '../../../../support/signed-in-cli.ts';
import type { StsStandIn } from '../../../../support/sts-stand-in.ts';
import type { UpstreamIssuer } from '../../../../support/upstream-issuer.ts';

const ROLE = 'arn:aws:iam::111122223333:role/deploy';
const GLOBEX_ROLE = 'arn:aws:iam::111122223333:role/globex-only';
const SESSION = 'fedbroker.acme.ci-deployer.ee02178fb6bffaef';
const JWT = /^[\w-]+\.[\w-]+\.[\w-]+$/;

let s: SignedInAwsCli;
let broker: TestBroker;
let gateway: SignedInAwsCli['gateway'];
let upstream: UpstreamIssuer;
let sts: StsStandIn;
let env: Record<string, string>;
let cli: RunCli;

async function signIn(run: RunCli, extra: Record<string, string> = {}): Promise<void> {
  const token = await upstream.token({ sub: 'deployer', repository: 'acme/app', team: 'payments' });
  const res = await run(['auth', 'exchange-oidc-token', '--tenant', 'acme', '--token', token], extra);
  expect(res.code, res.stderr).toBe(0);
}

beforeAll(async () => {
  s = await startSignedInAwsCli({
    relationship: { session_tags: { repo: { claim: 'repository', transitive: true }, team: { claim: 'team' } } },
    claims: { repository: 'acme/app', team: 'payments' },
  });
  ({ broker, gateway, upstream, sts, env, cli } = s);
  // STS fetches discovery and the JWKS from the token's issuer: the gateway (startSignedInCli cold-starts the broker so).
  const trust = { providerUrl: gateway.url, audience: 'sts.amazonaws.com', allowTagSession: true };
  sts.addRole({ ...trust, roleArn: ROLE, subjectLike: 'acme/*' });
  sts.addRole({ ...trust, roleArn: GLOBEX_ROLE, subjectLike: 'globex/*' });
});
afterAll(async () => {
  await s?.close();
});
beforeEach(() => {
  sts.sessions.length = 0;
});

/** What STS saw for the tenant's principal through the relationship's session tags. */
const expectedSession = (durationSeconds: number) => ({
  roleArn: ROLE,
  sessionName: SESSION,
  subject: 'acme/ci/deployer',
  audience: 'sts.amazonaws.com',
  // The tenant tag rides on every ID token, transitive (lib/trust/session-tags.ts).
  tags: { repo: 'acme/app', team: 'payments', 'fedbroker:tenant': 'acme' },
  transitiveTagKeys: ['repo', 'fedbroker:tenant'],
  durationSeconds,
});

describe('fedbroker aws assume-role', () => {
  it('prints export lines for credentials STS issued to the tenant’s subject, with the session tags', async () => {
    const res = await cli(['aws', 'assume-role', '--role-arn', ROLE]);
    expect(res.code, res.stderr).toBe(0);
    const vars = exportsOf(res.stdout);
    expect(Object.keys(vars)).toEqual(['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_CREDENTIAL_EXPIRATION']);
    expect(res.stderr).toMatch(
      new RegExp(
        String.raw`^fedbroker: credentials for arn:aws:iam::111122223333:role\/deploy \(session ` +
          String.raw`fedbroker\.acme\.ci-deployer\.ee02178fb6bffaef\), valid until \S+Z\n$`,
      ),
    );
    expect(sts.sessions).toEqual([expectedSession(3600)]);
    const loaded = await withEnv(vars, () => fromEnv()());
    expect(loaded).toMatchObject({ accessKeyId: expect.stringMatching(/^ASIA/), sessionToken: vars.AWS_SESSION_TOKEN });
    expect(Math.abs((loaded.expiration?.getTime() ?? 0) - (Date.now() + 3600_000))).toBeLessThan(10_000);
  });

  it('writes the export lines to a 0600 file with --write-env, printing nothing on stdout', async () => {
    const file = join(tempConfigHome(), 'aws.env');
    const res = await cli([
      'aws',
      'assume-role',
      '--role-arn',
      ROLE,
      '--duration',
      '15m',
      '--session-name',
      'release-42',
      '--write-env',
      file,
    ]);
    expect(res).toMatchObject({ code: 0, stdout: '' });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(Object.keys(exportsOf(readFileSync(file, 'utf8')))).toHaveLength(4);
    expect(sts.sessions).toEqual([{ ...expectedSession(900), sessionName: 'release-42' }]);
  });

  it('writes a named profile into the shared credentials file, keeping the other profiles', async () => {
    const file = join(tempConfigHome(), 'credentials');
    writeFileSync(file, '[default]\naws_access_key_id = AKIAKEEP\naws_secret_access_key = keep\n', { mode: 0o644 });
    const res = await cli(['aws', 'assume-role', '--role-arn', ROLE, '--profile', 'acme-deploy'], { AWS_SHARED_CREDENTIALS_FILE: file });
    expect(res).toMatchObject({ code: 0, stdout: '' });
    expect(res.stderr).toContain(`wrote profile acme-deploy to ${file}`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const read = (profile: string) => fromIni({ profile, filepath: file, configFilepath: `${file}.none`, ignoreCache: true })();
    expect(await read('acme-deploy')).toMatchObject({ accessKeyId: expect.stringMatching(/^ASIA/), sessionToken: expect.any(String) });
    expect(await read('default')).toMatchObject({ accessKeyId: 'AKIAKEEP', secretAccessKey: 'keep' });
    expect(sts.sessions).toEqual([expectedSession(3600)]);
  });

  it('reports an STS refusal in one line naming the role, with exit 1 and no token', async () => {
    const res = await cli(['aws', 'assume-role', '--role-arn', GLOBEX_ROLE]);
    expect(res).toMatchObject({ code: 1, stdout: '' });
    expect(res.stderr).toMatch(
      new RegExp(
        String.raw`^fedbroker: access_denied: STS refused to let acme\/ci\/deployer assume ` +
          String.raw`arn:aws:iam::\[account\]:role\/globex-only: check the role's trust policy .+: ` +
          String.raw`AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity\n$`,
      ),
    );
    expect(sts.sessions).toEqual([]);
  });

  it.each([
    ['a malformed role ARN', ['--role-arn', 'deploy']],
    ['a session shorter than STS allows', ['--role-arn', ROLE, '--duration', '5m']],
    ['a session name STS refuses', ['--role-arn', ROLE, '--session-name', 'has space']],
    ['both --write-env and --profile', ['--role-arn', ROLE, '--write-env', 'x.env', '--profile', 'p']],
  ])('exits 2 before any request for %s', async (_name, args) => {
    const res = await cli(['aws', 'assume-role', ...args]);
    expect(res).toMatchObject({ code: 2, stdout: '' });
    expect(res.stderr).toMatch(/^fedbroker: usage_error: .+\n$/);
  });
});

describe('fedbroker aws credential-process', () => {
  it('prints exactly the credential_process JSON and nothing else', async () => {
    const res = await cli(['aws', 'credential-process', '--role-arn', ROLE]);
    expect(res).toMatchObject({ code: 0, stderr: '' });
    expect(res.stdout.endsWith('}\n')).toBe(true);
    const json = JSON.parse(res.stdout) as Record<string, unknown>;
    expect(Object.keys(json)).toEqual(['Version', 'AccessKeyId', 'SecretAccessKey', 'SessionToken', 'Expiration']);
    expect(json.Version).toBe(1);
    expect(json.Expiration).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
  });

  it('is what the AWS SDK runs for a credential_process profile in ~/.aws/config', async () => {
    const dir = tempConfigHome();
    const command = `${process.execPath} ${resolve('bin/fedbroker.mjs')} aws credential-process --role-arn ${ROLE} --duration 15m`;
    writeFileSync(join(dir, 'config'), `[profile acme-ci]\ncredential_process = ${command}\nregion = us-east-1\n`);
    writeFileSync(join(dir, 'credentials'), '');
    // The SDK runs the command with this process's environment.
    const vars = { ...env, AWS_CONFIG_FILE: join(dir, 'config'), AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials') };
    // One after the other: the second is served from the first's cached answer.
    const [viaProcess, viaIni] = await withEnv(vars, async () => [
      await fromProcess({ profile: 'acme-ci' })(),
      await fromIni({ profile: 'acme-ci', ignoreCache: true })(),
    ]);
    for (const c of [viaProcess, viaIni]) {
      expect(c).toMatchObject({
        accessKeyId: expect.stringMatching(/^ASIA/),
        secretAccessKey: expect.any(String),
        sessionToken: expect.any(String),
      });
      expect(Math.abs((c.expiration?.getTime() ?? 0) - (Date.now() + 900_000))).toBeLessThan(10_000);
    }
    expect(viaIni.accessKeyId).toBe(viaProcess.accessKeyId);
    expect(sts.sessions).toEqual([expectedSession(900)]);
  });

  it('caches the answer 0600 per role, session and tenant, and reuses it until 5 min before expiry', async () => {
    const cache = tempConfigHome();
    const vars = { XDG_CACHE_HOME: cache };
    const args = ['aws', 'credential-process', '--role-arn', ROLE, '--session-name', 'cache-test'];
    const first = await cli(args, vars);
    const sessions = sts.sessions.length;
    const again = await cli(args, vars);
    expect(again).toMatchObject({ code: 0, stdout: first.stdout, stderr: '' });
    expect(sts.sessions).toHaveLength(sessions);

    const dir = join(cache, 'fedbroker', 'aws-credentials');
    const [file = ''] = readdirSync(dir);
    expect(statSync(join(dir, file)).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, file), 'utf8')).toBe(first.stdout);

    const fresh = await cli([...args, '--no-cache'], vars);
    expect(JSON.parse(fresh.stdout).AccessKeyId).not.toBe(JSON.parse(first.stdout).AccessKeyId);
    expect(sts.sessions).toHaveLength(sessions + 1);
    expect(readFileSync(join(dir, file), 'utf8')).toBe(first.stdout);

    // Four minutes left: too close to expiry to hand out, so new ones are fetched and cached.
    const nearlyExpired = { ...JSON.parse(first.stdout), Expiration: new Date(Date.now() + 240_000).toISOString() };
    writeFileSync(join(dir, file), JSON.stringify(nearlyExpired));
    const renewed = await cli(args, vars);
    expect(JSON.parse(renewed.stdout).AccessKeyId).not.toBe(nearlyExpired.AccessKeyId);
    expect(sts.sessions).toHaveLength(sessions + 2);
    expect(readFileSync(join(dir, file), 'utf8')).toBe(renewed.stdout);

    const other = await cli(['aws', 'credential-process', '--role-arn', ROLE, '--session-name', 'other-session'], vars);
    expect(other.code).toBe(0);
    expect(readdirSync(dir)).toHaveLength(2);
  });

  it('fails with exit 1 and an empty stdout when STS refuses, so the SDK reports the failure', async () => {
    const res = await cli(['aws', 'credential-process', '--role-arn', GLOBEX_ROLE]);
    expect(res).toMatchObject({ code: 1, stdout: '' });
    expect(res.stderr).toMatch(/^fedbroker: access_denied: .*role\/globex-only/);
  });
});

describe('fedbroker aws web-identity', () => {
  it('writes the ID token to a 0600 file and prints the variables the SDK’s web identity provider reads', async () => {
    const file = join(tempConfigHome(), 'sts.jwt');
    const res = await cli(['aws', 'web-identity', '--role-arn', ROLE, '--token-file', file]);
    expect(res.code, res.stderr).toBe(0);
    expect(exportsOf(res.stdout)).toEqual({ AWS_ROLE_ARN: ROLE, AWS_WEB_IDENTITY_TOKEN_FILE: file, AWS_ROLE_SESSION_NAME: SESSION });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const token = readFileSync(file, 'utf8');
    expect(token).toMatch(JWT);
    expect(decodeJwt(token)).toMatchObject({ aud: 'sts.amazonaws.com', iss: gateway.url, sub: 'acme/ci/deployer' });

    const credentials = await withEnv(exportsOf(res.stdout), () =>
      fromTokenFile({ clientConfig: { region: 'us-east-1', endpoint: sts.url } })(),
    );
    expect(credentials.accessKeyId).toMatch(/^ASIA/);
    expect(sts.sessions).toEqual([expectedSession(3600)]);
  });

  it('keeps the file fresh with --refresh and exits 0 on SIGTERM', async () => {
    const file = join(tempConfigHome(), 'sts.jwt');
    // 60 s tokens, timer 100× faster: a refresh every ~0.5 s.
    const run = await spawnCli(
      ['aws', 'web-identity', '--role-arn', ROLE, '--token-file', file, '--duration', '1m', '--refresh', '--time-scale', '100'],
      env,
    );
    await run.until(({ stderr }) => (stderr.match(/refreshed /g) ?? []).length >= 2);
    run.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    expect(run.stderr()).toMatch(/stopped; .* keeps its last token until it expires\n$/);
    expect(Object.keys(exportsOf(run.stdout()))).toEqual(['AWS_ROLE_ARN', 'AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_ROLE_SESSION_NAME']);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toMatch(JWT);
  });

  it('renews an access token about to expire through the file it was signed in with', async () => {
    const own = tempConfigHome();
    const ownEnv = { ...env, HOME: own, XDG_CONFIG_HOME: own };
    const source = join(own, 'oidc.jwt');
    writeFileSync(source, await upstream.token({ sub: 'deployer', repository: 'acme/app', team: 'payments' }));
    // Two minutes: under the five the refresh loop keeps in hand, so its first ID token already renews it.
    const signIn = await cliRunner(ownEnv)(['auth', 'exchange-oidc-token', '--tenant', 'acme', '--token-file', source, '--duration', '2m']);
    expect(signIn.code, signIn.stderr).toBe(0);
    const before = JSON.parse(readFileSync(join(own, 'fedbroker', 'token.json'), 'utf8')) as { access_token: string };
    const run = await spawnCli(
      [
        'aws',
        'web-identity',
        '--role-arn',
        ROLE,
        '--token-file',
        join(own, 'sts.jwt'),
        '--duration',
        '1m',
        '--refresh',
        '--time-scale',
        '100',
      ],
      ownEnv,
    );
    await run.until(({ stderr }) => /refreshed /.test(stderr));
    run.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    expect(run.stderr()).toMatch(/^fedbroker: signed in as acme\/ci\/deployer/m);
    expect(run.stderr()).not.toContain('cannot be renewed');
    const after = JSON.parse(readFileSync(join(own, 'fedbroker', 'token.json'), 'utf8')) as { access_token: string; renew: unknown };
    expect(after.access_token).not.toBe(before.access_token);
    expect(after.renew).toEqual({ kind: 'oidc-token-file', token_file: source });
  });

  it('says at start when the access token cannot be renewed (signed in with an inline token)', async () => {
    const run = await spawnCli(
      [
        'aws',
        'web-identity',
        '--role-arn',
        ROLE,
        '--token-file',
        join(tempConfigHome(), 'sts.jwt'),
        '--duration',
        '1m',
        '--refresh',
        '--time-scale',
        '100',
      ],
      env,
    );
    // After a refresh, not at the first line: the signal handlers are set up just after it is printed.
    await run.until(({ stderr }) => /refreshed /.test(stderr));
    run.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    expect(run.stderr()).toMatch(
      /cannot be renewed by this process .* e\.g\. by: fedbroker auth exchange-oidc-token --tenant acme --token-file/,
    );
  });

  it('gives up with exit 1 after --max-failures consecutive failed refreshes', async () => {
    const own = tempConfigHome();
    const second = await startGateway((m) => broker.load(m));
    const ownEnv = { ...env, HOME: own, XDG_CONFIG_HOME: own, FEDBROKER_ENDPOINT: second.url };
    await signIn(cliRunner(ownEnv));
    const file = join(own, 'sts.jwt');
    const run = await spawnCli(
      [
        'aws',
        'web-identity',
        '--role-arn',
        ROLE,
        '--token-file',
        file,
        '--duration',
        '1m',
        '--refresh',
        '--time-scale',
        '50',
        '--max-failures',
        '2',
      ],
      ownEnv,
    );
    await run.until(({ stdout }) => stdout.includes('AWS_ROLE_SESSION_NAME'));
    await second.close();
    expect(await run.exited).toBe(1);
    expect(run.stderr()).toMatch(/refresh 1\/2 of \S*sts\.jwt failed \(network_error: cannot reach/);
    expect(run.stderr()).toMatch(
      new RegExp(
        String.raw`fedbroker: refresh_failed: .*sts\.jwt: gave up after 2 consecutive failed refreshes; ` +
          String.raw`last: network_error: cannot reach http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED\n$`,
      ),
    );
    expect(readFileSync(file, 'utf8')).toMatch(JWT);
  });
});

// `fedbroker aws serve` read by the real clients: the AWS SDK for JavaScript's container and
// instance-metadata providers and Debian's AWS CLI v2 (`aws configure export-credentials`), each
// getting credentials the STS stand-in issued for the broker's ID token.
import { execFile } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fromContainerMetadata, fromHttp, fromInstanceMetadata } from '@aws-sdk/credential-providers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempConfigHome, type RunCli } from '../../support/cli.ts';
import { spawnCli, type CliProcess } from '../../support/cli-spawn.ts';
import { exportsOf, type SignedInAwsCli, startSignedInAwsCli, withEnv } from '../../support/signed-in-cli.ts';
import type { StsStandIn } from '../../support/sts-stand-in.ts';

const ROLE = 'arn:aws:iam::111122223333:role/deploy';
/** Debian's awscli package (AWS CLI v2); `configure export-credentials` exists since 2.9. */
const AWS_CLI = '/usr/bin/aws';

let s: SignedInAwsCli;
let sts: StsStandIn;
let env: Record<string, string>;
let cli: RunCli;
let server: CliProcess;
let vars: Record<string, string>;

async function startServe(args: string[]): Promise<{ proc: CliProcess; vars: Record<string, string> }> {
  const proc = await spawnCli(['aws', 'serve', '--role-arn', ROLE, '--port', '0', ...args], env);
  await proc.until(({ stderr }) => /serving credentials/.test(stderr));
  return { proc, vars: exportsOf(proc.stdout()) };
}

beforeAll(async () => {
  s = await startSignedInAwsCli();
  ({ sts, env, cli } = s);
  sts.addRole({ providerUrl: s.gateway.url, audience: 'sts.amazonaws.com', allowTagSession: true, roleArn: ROLE, subjectLike: 'acme/*' });
  // 15-minute sessions, every wait 200 times shorter: renewed every 3.6 s of test time.
  ({ proc: server, vars } = await startServe(['--duration', '15m', '--time-scale', '200', '--imds']));
});
afterAll(async () => {
  server?.kill('SIGTERM');
  await server?.exited;
  await s?.close();
});

describe('fedbroker aws serve', () => {
  it('prints the two container variables (and the IMDS endpoint), on loopback, without the account id in its log', () => {
    expect(Object.keys(vars)).toEqual([
      'AWS_CONTAINER_CREDENTIALS_FULL_URI',
      'AWS_CONTAINER_AUTHORIZATION_TOKEN',
      'AWS_EC2_METADATA_SERVICE_ENDPOINT',
    ]);
    expect(vars.AWS_CONTAINER_CREDENTIALS_FULL_URI).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/role-credentials$/);
    expect(vars.AWS_CONTAINER_AUTHORIZATION_TOKEN).toMatch(/^[\w-]{43}$/);
    expect(server.stderr()).toMatch(/serving credentials for role deploy on http:\/\/127\.0\.0\.1:\d+ \(and IMDSv2\)/);
    expect(server.stderr()).not.toContain('111122223333');
  });

  it('gives the SDK’s container provider (fromContainerMetadata and fromHttp) the STS credentials', async () => {
    const viaEnv = await withEnv(
      {
        AWS_CONTAINER_CREDENTIALS_FULL_URI: vars.AWS_CONTAINER_CREDENTIALS_FULL_URI!,
        AWS_CONTAINER_AUTHORIZATION_TOKEN: vars.AWS_CONTAINER_AUTHORIZATION_TOKEN!,
      },
      () => fromContainerMetadata()(),
    );
    expect(viaEnv).toMatchObject({ accessKeyId: expect.stringMatching(/^ASIA/), sessionToken: expect.any(String) });
    expect(viaEnv.expiration?.getTime()).toBeGreaterThan(Date.now());
    const viaHttp = await fromHttp({
      awsContainerCredentialsFullUri: vars.AWS_CONTAINER_CREDENTIALS_FULL_URI,
      awsContainerAuthorizationToken: vars.AWS_CONTAINER_AUTHORIZATION_TOKEN,
    })();
    expect(viaHttp.accessKeyId).toMatch(/^ASIA/);
    expect(sts.sessions.every((s) => s.subject === 'acme/ci/deployer' && s.roleArn === ROLE && s.durationSeconds === 900)).toBe(true);
  });

  it('answers JSON shaped as the SDKs expect, with no AccountId', async () => {
    const res = await fetch(vars.AWS_CONTAINER_CREDENTIALS_FULL_URI!, {
      headers: { Authorization: vars.AWS_CONTAINER_AUTHORIZATION_TOKEN! },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = (await res.json()) as Record<string, string>;
    expect(Object.keys(body)).toEqual(['AccessKeyId', 'SecretAccessKey', 'Token', 'Expiration']);
    expect(body.Expiration).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it('gives Debian’s AWS CLI v2 the credentials through aws configure export-credentials', async () => {
    const home = tempConfigHome();
    const out = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(
        AWS_CLI,
        ['configure', 'export-credentials', '--format', 'process'],
        {
          env: {
            PATH: process.env.PATH ?? '',
            HOME: home,
            AWS_CONFIG_FILE: join(home, 'config'),
            AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials'),
            AWS_EC2_METADATA_DISABLED: 'true',
            AWS_CONTAINER_CREDENTIALS_FULL_URI: vars.AWS_CONTAINER_CREDENTIALS_FULL_URI!,
            AWS_CONTAINER_AUTHORIZATION_TOKEN: vars.AWS_CONTAINER_AUTHORIZATION_TOKEN!,
          },
          encoding: 'utf8',
          timeout: 60_000,
        },
        (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? -1) : 0, stdout, stderr }),
      ),
    );
    expect(out.code, out.stderr).toBe(0);
    const creds = JSON.parse(out.stdout) as Record<string, unknown>;
    expect(creds).toMatchObject({ Version: 1, AccessKeyId: expect.stringMatching(/^ASIA/), SessionToken: expect.any(String) });
  });

  it('refuses a missing authorization token with 401 and a wrong one with 403, also through the SDK', async () => {
    const url = vars.AWS_CONTAINER_CREDENTIALS_FULL_URI!;
    const missing = await fetch(url);
    expect(missing.status).toBe(401);
    expect(await missing.json()).toMatchObject({ Code: 'Unauthorized' });
    const wrong = await fetch(url, { headers: { Authorization: 'not-the-token' } });
    expect(wrong.status).toBe(403);
    expect(await wrong.json()).toMatchObject({ Code: 'AccessDenied' });
    expect((await fetch(url, { method: 'POST', headers: { Authorization: vars.AWS_CONTAINER_AUTHORIZATION_TOKEN! } })).status).toBe(405);
    await expect(fromHttp({ awsContainerCredentialsFullUri: url, awsContainerAuthorizationToken: 'not-the-token' })()).rejects.toThrow();
  });

  it('renews the credentials before they expire and serves the new ones', async () => {
    const read = async () =>
      (
        await fromHttp({
          awsContainerCredentialsFullUri: vars.AWS_CONTAINER_CREDENTIALS_FULL_URI,
          awsContainerAuthorizationToken: vars.AWS_CONTAINER_AUTHORIZATION_TOKEN,
        })()
      ).accessKeyId;
    const before = await read();
    const refreshes = (server.stderr().match(/refreshed credentials/g) ?? []).length;
    await server.until(({ stderr }) => (stderr.match(/refreshed credentials/g) ?? []).length > refreshes);
    expect(await read()).not.toBe(before);
    expect(server.stderr()).toMatch(/refreshed credentials for role deploy: valid until \S+Z/);
  });

  it('answers as IMDSv2 with --imds: the SDK’s instance-metadata provider gets credentials; no session token → 401', async () => {
    const creds = await withEnv({ AWS_EC2_METADATA_SERVICE_ENDPOINT: vars.AWS_EC2_METADATA_SERVICE_ENDPOINT! }, () =>
      fromInstanceMetadata()(),
    );
    expect(creds.accessKeyId).toMatch(/^ASIA/);
    const base = vars.AWS_EC2_METADATA_SERVICE_ENDPOINT!.replace(/\/$/, '');
    expect((await fetch(`${base}/latest/meta-data/iam/security-credentials/`)).status).toBe(401);
    const proxied = await fetch(`${base}/latest/api/token`, {
      method: 'PUT',
      headers: { 'X-aws-ec2-metadata-token-ttl-seconds': '60', 'X-Forwarded-For': '203.0.113.9' },
    });
    expect(proxied.status).toBe(403);
    expect((await fetch(`${base}/latest/api/token`, { method: 'PUT' })).status).toBe(400);
    expect((await fetch(`${base}/latest/api/token`)).status).toBe(405);
    expect((await fetch(`${base}/somewhere-else`)).status).toBe(404);
  });

  it('writes the token to a 0600 file with --authorization-token-file; the SDK reads it from there', async () => {
    const file = join(tempConfigHome(), 'container-token');
    const { proc, vars: fileVars } = await startServe(['--authorization-token-file', file]);
    try {
      expect(Object.keys(fileVars)).toEqual(['AWS_CONTAINER_CREDENTIALS_FULL_URI', 'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE']);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(readFileSync(file, 'utf8')).toMatch(/^[\w-]{43}$/);
      const creds = await fromHttp({
        awsContainerCredentialsFullUri: fileVars.AWS_CONTAINER_CREDENTIALS_FULL_URI,
        awsContainerAuthorizationTokenFile: fileVars.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE,
      })();
      expect(creds.accessKeyId).toMatch(/^ASIA/);
    } finally {
      proc.kill('SIGTERM');
      expect(await proc.exited).toBe(0);
    }
  });

  it('each start has its own token: the first server’s token is refused by a second one', async () => {
    const { proc, vars: other } = await startServe([]);
    try {
      expect(other.AWS_CONTAINER_AUTHORIZATION_TOKEN).not.toBe(vars.AWS_CONTAINER_AUTHORIZATION_TOKEN);
      const res = await fetch(other.AWS_CONTAINER_CREDENTIALS_FULL_URI!, {
        headers: { Authorization: vars.AWS_CONTAINER_AUTHORIZATION_TOKEN! },
      });
      expect(res.status).toBe(403);
    } finally {
      proc.kill('SIGTERM');
      await proc.exited;
    }
  });

  it('refuses to start without a stored token (no_token), with a bad role ARN or port (usage_error)', async () => {
    const empty = tempConfigHome();
    const none = await cli(['aws', 'serve', '--role-arn', ROLE, '--port', '0'], { HOME: empty, XDG_CONFIG_HOME: empty });
    expect(none).toMatchObject({ code: 1, stdout: '' });
    expect(none.stderr).toMatch(/^fedbroker: no_token: /);
    const badRole = await cli(['aws', 'serve', '--role-arn', 'deploy']);
    expect(badRole.code).toBe(2);
    expect(badRole.stderr).toMatch(/^fedbroker: usage_error: /);
    const badPort = await cli(['aws', 'serve', '--role-arn', ROLE, '--port', '70000']);
    expect(badPort.code).toBe(2);
    expect(badPort.stderr).toMatch(/^fedbroker: usage_error: /);
  });
});

// `fedbroker gcp credential-config` read by the real google-auth-library: it loads the generated
// external_account configuration, runs the CLI as its executable (or reads the token file) and
// exchanges the fedbroker ID token at the Google STS stand-in, which verifies it against the
// broker's JWKS, the provider's audience and expiry.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { GoogleAuth } from 'google-auth-library';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { tempConfigHome } from '../../support/cli.ts';
import { spawnCli } from '../../support/cli-spawn.ts';
import { startGoogleStsStandIn, type GoogleStsStandIn } from '../../support/google-sts-stand-in.ts';
import { exportsOf, startSignedInCli, withEnv, type SignedInCli } from '../../support/signed-in-cli.ts';

const PROVIDER = '//iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/ci-pool/providers/fedbroker';
const OTHER = '//iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/ci-pool/providers/strict';

let s: SignedInCli;
let google: GoogleStsStandIn;

/**
 * An access token as a workload gets one: GoogleAuth reads GOOGLE_APPLICATION_CREDENTIALS (and,
 * for the executable, GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES); the executable it spawns
 * inherits this environment, so the CLI's config home is set as a workload's would be.
 */
async function accessTokens(vars: Record<string, string>, times: number): Promise<string[]> {
  return withEnv({ ...s.env, ...vars }, async () => {
    // A project id, as workloads set GOOGLE_CLOUD_PROJECT: else the library asks Cloud Resource Manager for it.
    const auth = new GoogleAuth({ scopes: 'https://www.googleapis.com/auth/cloud-platform', projectId: 'ci-project' });
    const client = await auth.getClient();
    const tokens: string[] = [];
    for (let i = 0; i < times; i++) tokens.push(String((await client.getAccessToken()).token));
    return tokens;
  });
}

beforeAll(async () => {
  [s, google] = await Promise.all([startSignedInCli(), startGoogleStsStandIn()]);
  google.addProvider({ name: PROVIDER, issuer: s.gateway.url });
  google.addProvider({ name: OTHER, issuer: s.gateway.url, allowedAudiences: ['https://example.test/only-this'] });
});
afterAll(async () => {
  await Promise.all([s?.close(), google?.close()]);
});
beforeEach(() => {
  google.expiresIn = 3600;
});

describe('fedbroker gcp credential-config (executable-sourced)', () => {
  it('writes a 0600 external_account configuration in the config home that google-auth-library uses to get an access token', async () => {
    const res = await s.cli(['gcp', 'credential-config', '--audience', PROVIDER, '--token-url', google.tokenUrl]);
    expect(res.code, res.stderr).toBe(0);
    const vars = exportsOf(res.stdout);
    const path = join(s.env.XDG_CONFIG_HOME!, 'fedbroker', 'gcp-credential-config.json');
    expect(vars).toEqual({ GOOGLE_APPLICATION_CREDENTIALS: path, GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES: '1' });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const config = JSON.parse(readFileSync(path, 'utf8'));
    expect(config).toMatchObject({
      type: 'external_account',
      audience: PROVIDER,
      subject_token_type: 'urn:ietf:params:oauth:token-type:id_token',
      token_url: google.tokenUrl,
      credential_source: { executable: { timeout_millis: 30000 } },
    });
    expect(config.credential_source.executable.command).toMatch(/ gcp executable --audience https:\/\/iam\.googleapis\.com\/projects\//);
    expect(res.stderr).toMatch(/^fedbroker: wrote .+gcp-credential-config\.json: executable-sourced credential configuration for \/\/iam/);

    const before = google.exchanges.length;
    const [token] = await accessTokens(vars, 1);
    expect(token).toMatch(/^ya29\./);
    expect(google.exchanges.slice(before)).toEqual([
      { provider: PROVIDER, subject: s.subject, accessToken: token, scope: 'https://www.googleapis.com/auth/cloud-platform' },
    ]);
  });

  it('reuses the access token while it is fresh and runs the CLI again for a new one at expiry', async () => {
    const res = await s.cli(['gcp', 'credential-config', '--audience', PROVIDER, '--token-url', google.tokenUrl]);
    const vars = exportsOf(res.stdout);
    let before = google.exchanges.length;
    const fresh = await accessTokens(vars, 2);
    expect(google.exchanges.length - before).toBe(1);
    expect(fresh[1]).toBe(fresh[0]);
    // A 60 s token is inside the library's 5-minute refresh window as soon as it arrives: each call renews it.
    google.expiresIn = 60;
    before = google.exchanges.length;
    const renewed = await accessTokens(vars, 2);
    expect(google.exchanges.length - before).toBe(2);
    expect(renewed[1]).not.toBe(renewed[0]);
  });

  it('names the service account to impersonate with --service-account-impersonation-url, and writes where --output says', async () => {
    const url =
      'https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/deployer@ci-project.iam.gserviceaccount.com:generateAccessToken';
    const output = join(tempConfigHome(), 'adc.json');
    const res = await s.cli([
      'gcp',
      'credential-config',
      '--audience',
      PROVIDER,
      '--service-account-impersonation-url',
      url,
      '--output',
      output,
    ]);
    expect(res.code, res.stderr).toBe(0);
    expect(JSON.parse(readFileSync(output, 'utf8'))).toMatchObject({
      service_account_impersonation_url: url,
      token_url: 'https://sts.googleapis.com/v1/token',
    });
    const bad = await s.cli([
      'gcp',
      'credential-config',
      '--audience',
      PROVIDER,
      '--service-account-impersonation-url',
      'https://evil.test/x',
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^fedbroker: usage_error: .*iamcredentials/);
  });

  it('prints Google’s executable response: version, success, token_type, id_token, expiration_time', async () => {
    const res = await s.cli(['gcp', 'executable', '--audience', `https:${PROVIDER}`]);
    expect(res).toMatchObject({ code: 0, stderr: '' });
    const response = JSON.parse(res.stdout);
    expect(Object.keys(response)).toEqual(['version', 'success', 'token_type', 'id_token', 'expiration_time']);
    expect(response).toMatchObject({ version: 1, success: true, token_type: 'urn:ietf:params:oauth:token-type:id_token' });
    const claims = decodeJwt(response.id_token);
    expect(claims).toMatchObject({ aud: `https:${PROVIDER}`, sub: s.subject });
    expect(response.expiration_time).toBe(claims.exp);
  });

  it('prints the failure form (success false, code, message) and exits 1; the library reports it', async () => {
    const empty = tempConfigHome();
    const res = await s.cli(['gcp', 'executable', '--audience', `https:${PROVIDER}`], { HOME: empty, XDG_CONFIG_HOME: empty });
    expect(res.code).toBe(1);
    expect(JSON.parse(res.stdout)).toEqual({
      version: 1,
      success: false,
      code: 'no_token',
      message: expect.stringMatching(/no stored access token/),
    });
    expect(res.stderr).toMatch(/^fedbroker: no_token: /);

    const config = await s.cli(['gcp', 'credential-config', '--audience', PROVIDER, '--token-url', google.tokenUrl]);
    await expect(accessTokens({ ...exportsOf(config.stdout), HOME: empty, XDG_CONFIG_HOME: empty }, 1)).rejects.toThrow(/no_token/);
  });

  it('Google STS refuses the token for a provider whose allowed audiences it does not match (invalid_grant)', async () => {
    const res = await s.cli(['gcp', 'credential-config', '--audience', OTHER, '--token-url', google.tokenUrl]);
    expect(res.code, res.stderr).toBe(0);
    await expect(accessTokens(exportsOf(res.stdout), 1)).rejects.toThrow(/invalid_grant/);
    expect(google.refusals.at(-1)).toBe('invalid_grant');
  });
});

describe('fedbroker gcp credential-config --token-file (file-sourced)', () => {
  it('writes the token file and a configuration pointing at it; with --refresh the library picks up the new token', async () => {
    const dir = tempConfigHome();
    const [output, tokenFile] = [join(dir, 'gcp.json'), join(dir, 'gcp-token')];
    const args = [
      'gcp',
      'credential-config',
      '--audience',
      PROVIDER,
      '--token-url',
      google.tokenUrl,
      '--output',
      output,
      '--token-file',
      tokenFile,
    ];
    const proc = await spawnCli([...args, '--refresh', '--duration', '15m', '--time-scale', '200'], s.env);
    try {
      await proc.until(({ stderr }) => /refreshing until stopped/.test(stderr));
      const vars = exportsOf(proc.stdout());
      expect(vars).toEqual({ GOOGLE_APPLICATION_CREDENTIALS: output });
      expect(JSON.parse(readFileSync(output, 'utf8')).credential_source).toEqual({ file: tokenFile, format: { type: 'text' } });
      expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
      const first = readFileSync(tokenFile, 'utf8');
      expect(decodeJwt(first).aud).toBe(`https:${PROVIDER}`);
      google.expiresIn = 60;
      await accessTokens(vars, 1);
      await proc.until(({ stderr }) => /refreshed .+gcp-token: valid until/.test(stderr));
      const second = readFileSync(tokenFile, 'utf8');
      expect(second).not.toBe(first);
      const before = google.exchanges.length;
      await accessTokens(vars, 1);
      expect(google.exchanges.length - before).toBe(1);
    } finally {
      proc.kill('SIGTERM');
      expect(await proc.exited).toBe(0);
    }
  });

  it('refuses --refresh without --token-file, a malformed provider, and a path inside GITHUB_WORKSPACE (usage_error)', async () => {
    const refresh = await s.cli(['gcp', 'credential-config', '--audience', PROVIDER, '--refresh']);
    expect(refresh).toMatchObject({ code: 2, stdout: '' });
    expect(refresh.stderr).toMatch(/^fedbroker: usage_error: --refresh needs --token-file/);
    const provider = await s.cli(['gcp', 'credential-config', '--audience', 'projects/1/providers/x']);
    expect(provider.code).toBe(2);
    expect(provider.stderr).toMatch(/^fedbroker: usage_error: .*workloadIdentityPools/);
    const workspace = tempConfigHome();
    const inside = await s.cli(['gcp', 'credential-config', '--audience', PROVIDER, '--output', join(workspace, 'gcp.json')], {
      GITHUB_WORKSPACE: workspace,
    });
    expect(inside.code).toBe(2);
    expect(inside.stderr).toMatch(/^fedbroker: usage_error: .*inside GITHUB_WORKSPACE/);
  });
});

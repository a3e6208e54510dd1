// The GitHub Action run as the runner runs it (test/support/actions-runner.ts): the job's OIDC
// token from the Actions ID-token stand-in, exchanged at the broker, then AWS credentials from the
// STS stand-in (static, in a profile, or as a refreshing web identity token file), an ID token
// output, and Google and Azure configurations — asserting what lands in GITHUB_ENV and
// GITHUB_OUTPUT, what is masked, that files stay under RUNNER_TEMP, and how a refusal is explained.
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromIni, fromTokenFile } from '@aws-sdk/credential-providers';
import { GoogleAuth } from 'google-auth-library';
import { decodeJwt } from 'jose';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTION_BUNDLE, buildAction, bundleAction } from '../../../scripts/build-action.ts';
import { startActionsIdTokenStandIn, type ActionsIdTokenStandIn, type ActionsJob } from '../../support/actions-id-token-stand-in.ts';
import { runAction, type ActionRun } from '../../support/actions-runner.ts';
import { startBroker, type TestBroker } from '../../support/broker.ts';
import { postExchange, TOKEN_TYPE } from '../../support/exchange-client.ts';
import { startGateway } from '../../support/gateway.ts';
import { startGoogleStsStandIn, type GoogleStsStandIn } from '../../support/google-sts-stand-in.ts';
import { withEnv } from '../../support/signed-in-cli.ts';
import { startStsStandIn, type StsStandIn } from '../../support/sts-stand-in.ts';
import { tenantAdmin } from '../../support/tenants.ts';
import { startUpstreamIssuer, type UpstreamIssuer } from '../../support/upstream-issuer.ts';

const ROLE = 'arn:aws:iam::111122223333:role/deploy';
const PROVIDER = '//iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/gha-pool/providers/fedbroker';
const AZURE_CLIENT = '6c3f1a2e-0b7d-4e59-9a41-2f8d7c0e5b13';
const AZURE_TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const MAIN: ActionsJob = { repository: 'acme/app', repositoryId: '2002', ownerId: '1001', ref: 'refs/heads/main' };

let broker: TestBroker;
let gateway: Awaited<ReturnType<typeof startGateway>>;
let actions: ActionsIdTokenStandIn;
let upstream: UpstreamIssuer;
let sts: StsStandIn;
let google: GoogleStsStandIn;
let bundle: string;
let adminToken: string;

/** The runner's variables for a job with `permissions: id-token: write`, and the STS endpoint. */
const jobEnv = () => ({
  ACTIONS_ID_TOKEN_REQUEST_URL: actions.requestUrl,
  ACTIONS_ID_TOKEN_REQUEST_TOKEN: actions.requestToken,
  AWS_ENDPOINT_URL_STS: sts.url,
});
const base = () => ({ endpoint: gateway.url, tenant: 'acme' });
const run = (inputs: Record<string, string>, env: Record<string, string> = jobEnv()) => runAction(bundle, { ...base(), ...inputs }, env);

/** Every secret the step handled is masked, and none appears in the log outside its ::add-mask:: line. */
function expectMasked(r: ActionRun, secrets: string[]): void {
  const log = r.stdout.replace(/^::add-mask::.*$/gm, '');
  for (const s of secrets) {
    expect(r.masks).toContain(s);
    expect(log).not.toContain(s);
  }
  expect(log).not.toMatch(/eyJ[\w-]*\.[\w-]*\.[\w-]*/);
  expect(log).not.toContain('111122223333');
  expect(r.stderr).toBe('');
}

/** Files the step wrote are private and under RUNNER_TEMP, never the workspace. */
function expectUnderRunnerTemp(r: ActionRun, path: string | undefined): void {
  expect(path?.startsWith(`${r.runnerTemp}/fedbroker-`), String(path)).toBe(true);
  expect(statSync(path!).mode & 0o777).toBe(0o600);
}

beforeAll(async () => {
  [broker, actions, upstream, sts, google] = await Promise.all([
    startBroker({ env: { FEDBROKER_LOCAL: 'true' } }),
    startActionsIdTokenStandIn(MAIN),
    startUpstreamIssuer(),
    startStsStandIn(),
    startGoogleStsStandIn(),
  ]);
  gateway = await startGateway((m) => broker.load(m));
  broker.coldStart({ FEDBROKER_ISSUER: gateway.url });
  const scopes = ['id-token:issue' as const];
  const idTokenAudiences = ['sts.amazonaws.com', 'api://AzureADTokenExchange', `https:${PROVIDER}`, 'https://deploy.example.test'];
  await tenantAdmin(broker.tableName).tenant('acme', [
    {
      kind: 'oidc',
      id: 'gha',
      issuer: actions.issuer,
      audiences: ['fedbroker'],
      conditions: { StringLike: { sub: 'repo:acme/app:*' }, StringEquals: { repository_owner_id: '1001' } },
      scopes,
      id_token_audiences: idTokenAudiences,
    },
    {
      kind: 'oidc',
      id: 'gha-immutable',
      issuer: actions.issuer,
      audiences: ['fedbroker'],
      conditions: { StringLike: { sub: 'repo:acme@1001/app@2002:*' } },
      scopes,
      id_token_audiences: idTokenAudiences,
    },
    {
      kind: 'oidc',
      id: 'admin',
      issuer: upstream.issuer,
      audiences: ['fedbroker'],
      conditions: { StringEquals: { sub: 'admin' } },
      scopes: ['trust:admin'],
    },
  ]);
  const admin = await postExchange(gateway.url, {
    subject_token: await upstream.token({ sub: 'admin' }),
    subject_token_type: TOKEN_TYPE.idToken,
    tenant: 'acme',
  });
  adminToken = admin.body.access_token;
  sts.addRole({ providerUrl: gateway.url, audience: 'sts.amazonaws.com', allowTagSession: true, roleArn: ROLE, subjectLike: 'acme/*' });
  google.addProvider({ name: PROVIDER, issuer: gateway.url });
  bundle = await buildAction(join(mkdtempSync(join(tmpdir(), 'action-')), 'fedbroker-action.mjs'));
});
afterAll(async () => {
  await Promise.all([gateway?.close(), actions?.close(), upstream?.close(), sts?.close(), google?.close()]);
  await broker?.close();
});

describe('the fedbroker GitHub Action', () => {
  it('exports masked AWS credentials for role-to-assume through GITHUB_ENV', async () => {
    const r = await run({ 'role-to-assume': ROLE, 'aws-region': 'eu-west-1' });
    expect(r.code, r.stdout).toBe(0);
    expect(Object.keys(r.env).sort()).toEqual([
      'AWS_ACCESS_KEY_ID',
      'AWS_CREDENTIAL_EXPIRATION',
      'AWS_DEFAULT_REGION',
      'AWS_REGION',
      'AWS_SECRET_ACCESS_KEY',
      'AWS_SESSION_TOKEN',
    ]);
    expect(r.env).toMatchObject({ AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: expect.stringMatching(/^ASIA/) });
    expect(actions.requests.at(-1)).toBe('fedbroker');
    expect(sts.sessions.at(-1)).toMatchObject({
      roleArn: ROLE,
      subject: 'acme/gha/repo:acme/app:ref:refs/heads/main',
      durationSeconds: 3600,
    });
    expect(r.outputs).toMatchObject({ principal: 'acme/gha/repo:acme/app:ref:refs/heads/main' });
    expectMasked(r, [r.env.AWS_ACCESS_KEY_ID!, r.env.AWS_SECRET_ACCESS_KEY!, r.env.AWS_SESSION_TOKEN!, '111122223333']);
    // The job token and the access token are masked as well: two JWTs besides the credentials.
    expect(r.masks.filter((m) => /^eyJ/.test(m))).toHaveLength(2);
    expect(r.state).toEqual({ isPost: 'true' });
    // No token file behind: without refresh the keys are all later steps need.
    const dirs = readdirSync(r.runnerTemp);
    expect(dirs).toEqual([expect.stringMatching(/^fedbroker-/)]);
    expect(readdirSync(join(r.runnerTemp, dirs[0]!))).toEqual([]);
  });

  it('accepts the immutable sub form (repo:owner@id/repo@id:…) through the relationship that names it', async () => {
    actions.job = { ...MAIN, immutableSub: true };
    try {
      const r = await run({ 'id-token-audience': 'https://deploy.example.test' });
      expect(r.code, r.stdout).toBe(0);
      expect(r.outputs.principal).toBe('acme/gha-immutable/repo:acme@1001/app@2002:ref:refs/heads/main');
    } finally {
      actions.job = MAIN;
    }
  });

  it('outputs a masked ID token for any allowed audience', async () => {
    const r = await run({ 'id-token-audience': 'https://deploy.example.test', audience: 'fedbroker' });
    expect(r.code, r.stdout).toBe(0);
    const token = r.outputs['id-token']!;
    expect(decodeJwt(token)).toMatchObject({ iss: gateway.url, aud: 'https://deploy.example.test', sub: r.outputs.principal });
    expectMasked(r, [token]);
    expect(r.env).toEqual({});
  });

  it('writes a named AWS profile to a credentials file under RUNNER_TEMP, which the SDK reads', async () => {
    const r = await run({ 'role-to-assume': ROLE, 'aws-profile': 'deploy', 'role-duration-seconds': '900' });
    expect(r.code, r.stdout).toBe(0);
    expect(Object.keys(r.env)).toEqual(['AWS_SHARED_CREDENTIALS_FILE']);
    expectUnderRunnerTemp(r, r.env.AWS_SHARED_CREDENTIALS_FILE);
    const creds = await fromIni({
      profile: 'deploy',
      filepath: r.env.AWS_SHARED_CREDENTIALS_FILE,
      configFilepath: join(r.runnerTemp, 'none'),
    })();
    expect(creds.accessKeyId).toMatch(/^ASIA/);
    expectMasked(r, [creds.secretAccessKey, creds.sessionToken!]);
    expect(sts.sessions.at(-1)?.durationSeconds).toBe(900);
  });

  it('with refresh, exports a web identity token file instead of keys and keeps it fresh until the post step', async () => {
    const env = { ...jobEnv(), FEDBROKER_ACTION_TIME_SCALE: '200' };
    const r = await run({ 'role-to-assume': ROLE, 'role-duration-seconds': '900', refresh: 'true' }, env);
    expect(r.code, r.stdout).toBe(0);
    expect(Object.keys(r.env).sort()).toEqual(['AWS_ROLE_ARN', 'AWS_ROLE_SESSION_NAME', 'AWS_WEB_IDENTITY_TOKEN_FILE']);
    const file = r.env.AWS_WEB_IDENTITY_TOKEN_FILE!;
    expectUnderRunnerTemp(r, file);
    const pid = Number(r.state.refresher_pid);
    expect(pid).toBeGreaterThan(0);
    try {
      // The SDK assumes the role itself with the file, as in any later step of the job.
      const creds = await withEnv({ AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL_STS: sts.url }, () =>
        fromTokenFile({ roleArn: r.env.AWS_ROLE_ARN, webIdentityTokenFile: file, roleSessionName: r.env.AWS_ROLE_SESSION_NAME })(),
      );
      expect(creds.accessKeyId).toMatch(/^ASIA/);
      // 900 s tokens, waits 200 times shorter: rewritten after 3.6 s, with a new job token each time.
      const first = readFileSync(file, 'utf8');
      const requests = actions.requests.length;
      const log = () => readFileSync(join(file, '..', 'refresher.log'), 'utf8');
      // The file is replaced first, the log line follows: wait for both.
      await waitFor(() => readFileSync(file, 'utf8') !== first && /refreshed .+aws-web-identity-token: valid until \S+Z/.test(log()));
      expect(actions.requests.length).toBeGreaterThan(requests);
      expect(decodeJwt(readFileSync(file, 'utf8')).aud).toBe('sts.amazonaws.com');
      // The log is private to the job's temp directory, and holds no token either.
      expect(log()).not.toMatch(/eyJ[\w-]*\.[\w-]*\.[\w-]*/);
    } finally {
      const post = await runAction(bundle, base(), {}, { state: r.state });
      expect(post.code, post.stdout).toBe(0);
      expect(post.stdout).toContain('stopped the token refresher');
    }
    await waitFor(() => !alive(pid));
  });

  it('writes a file-sourced Google configuration and an Azure federated token file under RUNNER_TEMP', async () => {
    const r = await run({
      'gcp-workload-identity-provider': PROVIDER,
      'gcp-token-url': google.tokenUrl,
      'azure-client-id': AZURE_CLIENT,
      'azure-tenant-id': AZURE_TENANT,
    });
    expect(r.code, r.stdout).toBe(0);
    expect(r.env).toMatchObject({
      AZURE_CLIENT_ID: AZURE_CLIENT,
      AZURE_TENANT_ID: AZURE_TENANT,
      AZURE_AUTHORITY_HOST: 'https://login.microsoftonline.com/',
      CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE: r.env.GOOGLE_APPLICATION_CREDENTIALS,
    });
    expectUnderRunnerTemp(r, r.env.GOOGLE_APPLICATION_CREDENTIALS);
    expectUnderRunnerTemp(r, r.env.AZURE_FEDERATED_TOKEN_FILE);
    expect(r.outputs).toMatchObject({
      'gcp-credentials-file': r.env.GOOGLE_APPLICATION_CREDENTIALS,
      'azure-federated-token-file': r.env.AZURE_FEDERATED_TOKEN_FILE,
    });
    expect(decodeJwt(readFileSync(r.env.AZURE_FEDERATED_TOKEN_FILE!, 'utf8')).aud).toBe('api://AzureADTokenExchange');
    const config = JSON.parse(readFileSync(r.env.GOOGLE_APPLICATION_CREDENTIALS!, 'utf8'));
    expectUnderRunnerTemp(r, config.credential_source.file);
    // google-auth-library, as a later step would use it.
    const token = await withEnv({ GOOGLE_APPLICATION_CREDENTIALS: r.env.GOOGLE_APPLICATION_CREDENTIALS }, async () =>
      (await new GoogleAuth({ scopes: 'https://www.googleapis.com/auth/cloud-platform', projectId: 'ci' }).getClient()).getAccessToken(),
    );
    expect(token.token).toMatch(/^ya29\./);
    expect(google.exchanges.at(-1)).toMatchObject({ provider: PROVIDER, subject: r.outputs.principal });
  });

  it('explains a refusal: the job’s claims, and with explain-token which condition failed on which claim value', async () => {
    actions.job = { ...MAIN, repository: 'evil/app', ownerId: '666' };
    try {
      const r = await run({ 'role-to-assume': ROLE, 'explain-token': adminToken });
      expect(r.code).toBe(1);
      expect(r.errors).toHaveLength(1);
      expect(r.errors[0]).toMatch(
        /^fedbroker: subject_token_refused: tenant acme refused the token of repo:evil\/app:ref:refs\/heads\/main: /,
      );
      // Only relationships for the token's issuer are summed up (the admin one trusts another issuer).
      expect(r.errors[0]).not.toContain('admin:');
      expect(r.errors[0]).toContain('gha: condition StringLike sub: seen "repo:evil/app:ref:refs/heads/main"');
      expect(r.stdout).toContain('  repository_owner_id');
      expect(r.stdout).toMatch(/^ {2}repository: "evil\/app"$/m);
      expect(r.stdout).toMatch(/^ {2}FAIL condition StringEquals repository_owner_id: seen "666"$/m);
      expect(r.env).toEqual({});
      expectMasked(r, [adminToken]);

      const plain = await run({ 'role-to-assume': ROLE });
      expect(plain.errors[0]).toMatch(/subject_token_refused: .*add input explain-token/);
    } finally {
      actions.job = MAIN;
    }
  });

  it('fails with what to do: no id-token permission, nothing asked, bad inputs (usage_error), STS refusing the role', async () => {
    const noPermission = await run({ 'role-to-assume': ROLE }, { AWS_ENDPOINT_URL_STS: sts.url });
    expect(noPermission.code).toBe(1);
    expect(noPermission.errors).toEqual([expect.stringMatching(/^fedbroker: no_id_token_permission: .*permissions: id-token: write/)]);
    const nothing = await run({});
    expect(nothing.errors).toEqual([expect.stringMatching(/^fedbroker: usage_error: nothing to do/)]);
    const badRole = await run({ 'role-to-assume': 'deploy' });
    expect(badRole.errors).toEqual([expect.stringMatching(/^fedbroker: usage_error: input role-to-assume/)]);
    const both = await run({ 'role-to-assume': ROLE, 'aws-profile': 'x', refresh: 'true' });
    expect(both.errors).toEqual([expect.stringMatching(/^fedbroker: usage_error: inputs aws-profile and refresh/)]);
    const http = await run({ 'id-token-audience': 'x', endpoint: 'http://broker.example.test' });
    expect(http.errors).toEqual([expect.stringMatching(/^fedbroker: usage_error: --endpoint must use https/)]);
    const other = await run({ 'role-to-assume': 'arn:aws:iam::111122223333:role/not-trusted' });
    expect(other.code).toBe(1);
    expect(other.errors).toEqual([expect.stringMatching(/^fedbroker: access_denied: STS refused to let acme\/gha\/repo:acme\/app/)]);
    expect(other.stdout.replace(/^::add-mask::.*$/gm, '')).not.toContain('111122223333');
  });

  it.each([
    [{ tenant: 'Acme!' }, /input tenant must be/],
    [{ 'role-to-assume': ROLE, 'role-duration-seconds': '60' }, /input role-duration-seconds must be 900 to 43200/],
    [{ 'role-to-assume': ROLE, 'role-session-name': 'a b' }, /input role-session-name must be/],
    [{ 'role-to-assume': ROLE, 'aws-profile': 'a b' }, /input aws-profile must be/],
    [{ 'role-to-assume': ROLE, refresh: 'yes' }, /input refresh must be true or false/],
    [{ 'gcp-workload-identity-provider': 'projects/1/providers/x' }, /input gcp-workload-identity-provider must be/],
    [{ 'gcp-workload-identity-provider': PROVIDER, 'gcp-service-account': 'not-an-email' }, /input gcp-service-account must be/],
    [{ 'azure-client-id': 'nope', 'azure-tenant-id': AZURE_TENANT }, /input azure-client-id must be a GUID/],
    [{ 'azure-client-id': AZURE_CLIENT, 'azure-tenant-id': 'a/b' }, /input azure-tenant-id must be/],
    [
      { 'azure-client-id': AZURE_CLIENT, 'azure-tenant-id': AZURE_TENANT, 'azure-authority-host': 'http://x' },
      /azure-authority-host must be an https URL/,
    ],
  ])('refuses bad inputs before any request: %o (usage_error)', async (inputs, message) => {
    const before = actions.requests.length;
    const r = await run(inputs as Record<string, string>);
    expect(r.code).toBe(1);
    expect(r.errors).toEqual([expect.stringMatching(/^fedbroker: usage_error: /)]);
    expect(r.errors[0]).toMatch(message);
    expect(actions.requests.length).toBe(before);
  });

  it('fails with id_token_request_failed when the runner refuses its request token, invalid_target for a refused audience', async () => {
    const refused = await run(
      { 'id-token-audience': 'https://deploy.example.test' },
      { ...jobEnv(), ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'wrong' },
    );
    expect(refused.code).toBe(1);
    expect(refused.errors).toEqual([expect.stringMatching(/^fedbroker: id_token_request_failed: .*HTTP 401/)]);
    const target = await run({ 'id-token-audience': 'https://not-allowed.example.test' });
    expect(target.code).toBe(1);
    expect(target.errors).toEqual([expect.stringMatching(/^fedbroker: invalid_target: /)]);
    expect(target.outputs['id-token']).toBeUndefined();
  });

  it('fails with runner_error outside a runner (no RUNNER_TEMP)', async () => {
    const r = await run({ 'id-token-audience': 'https://deploy.example.test' }, { ...jobEnv(), RUNNER_TEMP: '' });
    expect(r.errors).toEqual([expect.stringMatching(/^fedbroker: runner_error: RUNNER_TEMP is not set/)]);
  });

  it('action.yml declares exactly the inputs and outputs the entry uses, and runs the committed bundle on node24', () => {
    const manifest = parse(readFileSync('action.yml', 'utf8')) as { inputs: object; outputs: object; runs: Record<string, string> };
    const source = readFileSync('action/main.ts', 'utf8');
    const used = (re: RegExp) => [...new Set([...source.matchAll(re)].map((m) => m[1]))].sort();
    expect(Object.keys(manifest.inputs).sort()).toEqual(used(/(?:get(?:Boolean)?Input|required)\('([\w-]+)'\)/g));
    expect(Object.keys(manifest.outputs).sort()).toEqual(used(/setOutput\('([\w-]+)'/g));
    expect(manifest.runs).toEqual({ using: 'node24', main: 'action/fedbroker-action.mjs', post: 'action/fedbroker-action.mjs' });
  });

  it('the committed bundle is built from the current sources (run npm run build:action when this fails)', async () => {
    expect(existsSync(ACTION_BUNDLE)).toBe(true);
    expect(Buffer.from(readFileSync(ACTION_BUNDLE)).equals(Buffer.from(await bundleAction()))).toBe(true);
  });
});

/** Whether `pid` still runs; an exited process nobody reaped yet (state Z: its parent, the action, is gone) does not. */
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

/** Polls until `condition` holds (the test's own timeout bounds it). */
async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setTimeout(r, 50));
}

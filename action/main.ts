// The fedbroker GitHub Action (action.yml): the job's OIDC token → a fedbroker access token →
// AWS, Google Cloud and Azure credentials and ID tokens, by its inputs. Bundled by
// scripts/build-action.ts into action/fedbroker-action.mjs, which the runner runs as `main` and `post`.
import '../cli/quiet-logs.ts';
import { spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { redact } from '../lib/redact.ts';
import { TENANT_ID } from '../lib/tenants/tenant.ts';
import { TOKEN_TYPE } from '../lib/tokens/types.ts';
import { defaultSessionName, isoSeconds, writeProfile, type AwsCredentials } from '../cli/aws-credentials.ts';
import { CliError, toCliError } from '../cli/errors.ts';
import { exchangeToken, normalizeEndpoint } from '../cli/http.ts';
import { decodeUnverified } from '../cli/output.ts';
import { defaultTokenAudience, externalAccountConfig } from '../cli/outputs/google.ts';
import { issueIdTokenFor } from '../cli/outputs/id-token.ts';
import { refreshUntilStopped } from '../cli/outputs/keep-fresh-loop.ts';
import { writePrivateFile } from '../cli/private-file.ts';
import type { Lifetime } from '../cli/refresh.ts';
import { assumeRoleWithWebIdentity, issueStsIdToken } from '../cli/sts.ts';
import type { StoredToken } from '../cli/token-file.ts';
import { requestActionsToken } from './actions-token.ts';
import { claimLines, explainRefusal } from './explain.ts';
import { ActionError, error, exportVariable, getBooleanInput, getInput, getState, info, mask, saveState, setOutput } from './runner.ts';

const ROLE_ARN = /^arn:aws(?:-[a-z]+)*:iam::(\d{12}):role\/[\w+=,.@/-]{1,512}$/;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const PROVIDER =
  /^\/\/iam\.googleapis\.com\/projects\/\d{1,20}\/locations\/global\/workloadIdentityPools\/[a-z0-9-]{4,32}\/providers\/[a-z0-9-]{4,32}$/;
const AZURE_AUDIENCE = 'api://AzureADTokenExchange';
/** @azure/identity keeps the federated token file's content 5 minutes (see cli/commands/azure/federated-token.ts). */
const AZURE_READER_CACHE_MS = 5 * 60_000;

/** What the inputs ask for, checked before any request. */
interface Plan {
  endpoint: string;
  tenant: string;
  audience: string;
  explainToken: string;
  refresh: boolean;
  aws?: { roleArn: string; accountId: string; sessionName: string; duration: number; region: string; profile: string };
  idTokenAudience: string;
  gcp?: { provider: string; tokenAudience: string; serviceAccount: string };
  azure?: { clientId: string; tenantId: string; authorityHost: string };
}

function readPlan(): Plan {
  const required = (name: string) => {
    const v = getInput(name);
    if (!v) throw new ActionError('usage_error', `input ${name} is required`);
    return v;
  };
  const endpoint = normalizeEndpoint(required('endpoint'));
  const tenant = required('tenant');
  if (!TENANT_ID.test(tenant)) throw new ActionError('usage_error', 'input tenant must be 3-63 lower-case letters, digits and dashes');
  const plan: Plan = {
    endpoint,
    tenant,
    audience: getInput('audience') || 'fedbroker',
    explainToken: getInput('explain-token'),
    refresh: getBooleanInput('refresh'),
    idTokenAudience: getInput('id-token-audience'),
  };
  const roleArn = getInput('role-to-assume');
  if (roleArn) {
    const m = ROLE_ARN.exec(roleArn);
    if (!m?.[1]) throw new ActionError('usage_error', 'input role-to-assume must be an IAM role ARN (arn:aws:iam::<account>:role/<name>)');
    const duration = Number(getInput('role-duration-seconds') || 3600);
    if (!Number.isInteger(duration) || duration < 900 || duration > 43_200)
      throw new ActionError('usage_error', 'input role-duration-seconds must be 900 to 43200');
    const sessionName = getInput('role-session-name');
    if (sessionName && !/^[\w+=,.@-]{2,64}$/.test(sessionName))
      throw new ActionError('usage_error', 'input role-session-name must be 2-64 of letters, digits and + = , . @ - _');
    const profile = getInput('aws-profile');
    if (profile && !/^[\w.+@-]{1,64}$/.test(profile))
      throw new ActionError('usage_error', 'input aws-profile must be 1-64 of letters, digits and . + @ - _');
    if (profile && plan.refresh)
      throw new ActionError('usage_error', 'inputs aws-profile and refresh cannot be combined: a profile holds fixed credentials');
    plan.aws = { roleArn, accountId: m[1], sessionName, duration, region: getInput('aws-region'), profile };
  }
  const provider = getInput('gcp-workload-identity-provider');
  if (provider) {
    if (!PROVIDER.test(provider))
      throw new ActionError(
        'usage_error',
        'input gcp-workload-identity-provider must be ' +
          '//iam.googleapis.com/projects/<number>/locations/global/workloadIdentityPools/<pool>/providers/<provider>',
      );
    const serviceAccount = getInput('gcp-service-account');
    if (serviceAccount && !/^[^@\s/]+@[^@\s/]+$/.test(serviceAccount))
      throw new ActionError('usage_error', 'input gcp-service-account must be a service account email');
    plan.gcp = { provider, tokenAudience: getInput('gcp-token-audience') || defaultTokenAudience(provider), serviceAccount };
  }
  const clientId = getInput('azure-client-id');
  const azureTenant = getInput('azure-tenant-id');
  if (clientId || azureTenant) {
    if (!GUID.test(clientId)) throw new ActionError('usage_error', 'input azure-client-id must be a GUID');
    if (!/^[0-9a-zA-Z.-]{1,253}$/.test(azureTenant))
      throw new ActionError('usage_error', 'input azure-tenant-id must be a tenant GUID or domain');
    const authorityHost = getInput('azure-authority-host') || 'https://login.microsoftonline.com/';
    if (!authorityHost.startsWith('https://')) throw new ActionError('usage_error', 'input azure-authority-host must be an https URL');
    plan.azure = { clientId, tenantId: azureTenant, authorityHost };
  }
  if (!plan.aws && !plan.idTokenAudience && !plan.gcp && !plan.azure)
    throw new ActionError(
      'usage_error',
      'nothing to do: give role-to-assume, id-token-audience, gcp-workload-identity-provider or azure-client-id/azure-tenant-id',
    );
  return plan;
}

/**
 * The job's token traded for a fedbroker access token. A refusal is explained: the claims the job
 * presented and, with `explain-token`, which relationship condition failed on which claim value.
 */
async function signIn(plan: Plan, log: boolean): Promise<StoredToken> {
  const jobToken = await requestActionsToken(plan.audience);
  // The refresher's stdout is its own log file, not the runner's: a mask command there would only write the token down.
  if (log) mask(jobToken);
  try {
    const res = await exchangeToken(plan.endpoint, {
      subject_token: jobToken,
      subject_token_type: TOKEN_TYPE.idToken,
      tenant: plan.tenant,
    });
    if (log) mask(res.access_token);
    const claims = decodeUnverified(res.access_token).payload;
    return {
      endpoint: plan.endpoint,
      tenant: plan.tenant,
      access_token: res.access_token,
      expires_at: new Date(Date.now() + res.expires_in * 1000).toISOString(),
      scope: typeof res.scope === 'string' ? res.scope : '',
      sub: typeof claims.sub === 'string' ? claims.sub : '',
    };
  } catch (e) {
    const failure = toCliError(e);
    if (!log || failure.error !== 'invalid_request') throw e;
    info('::group::Why fedbroker refused this job’s token');
    info(`tenant ${plan.tenant} at ${plan.endpoint} refused the job's OIDC token (audience ${plan.audience}); its claims:`);
    for (const line of claimLines(jobToken)) info(line);
    let summary = 'add input explain-token (an access token with scope trust:admin of the tenant) to see which condition failed';
    if (plan.explainToken) {
      mask(plan.explainToken);
      try {
        const explained = await explainRefusal(plan.endpoint, plan.tenant, jobToken, plan.explainToken);
        for (const line of explained.lines) info(line);
        summary = explained.summary;
      } catch (x) {
        summary = `the explanation failed too (${toCliError(x).error}: ${redact(toCliError(x).message)})`;
      }
    }
    info('::endgroup::');
    const sub = decodeUnverified(jobToken).payload.sub;
    throw new ActionError('subject_token_refused', `tenant ${plan.tenant} refused the token of ${String(sub)}: ${summary}`);
  }
}

/** The files the action keeps fresh, and how to rewrite each of them with a new access token. */
type Writer = (stored: StoredToken) => Promise<Lifetime>;

function writers(plan: Plan, dir: string): { name: string; path: string; write: Writer }[] {
  const list: { name: string; path: string; write: Writer }[] = [];
  // The AWS token file only in refresh mode: otherwise the keys (or the profile) are what later steps use.
  if (plan.aws && plan.refresh) {
    const aws = plan.aws;
    const path = join(dir, 'aws-web-identity-token');
    list.push({
      name: 'aws',
      path,
      write: async (stored) => {
        // The ID token lives as long as the session asks, so the relationship's max_duration_seconds bounds both.
        const id = await issueStsIdToken(stored, aws.duration);
        await writePrivateFile(path, id.token);
        return id;
      },
    });
  }
  if (plan.gcp) {
    const gcp = plan.gcp;
    const path = join(dir, 'gcp-subject-token');
    list.push({
      name: 'gcp',
      path,
      write: async (stored) => {
        const id = await issueIdTokenFor(stored, gcp.tokenAudience);
        await writePrivateFile(path, id.token);
        return id;
      },
    });
  }
  if (plan.azure) {
    const path = join(dir, 'azure-federated-token');
    list.push({
      name: 'azure',
      path,
      write: async (stored) => {
        const id = await issueIdTokenFor(stored, AZURE_AUDIENCE);
        await writePrivateFile(path, id.token);
        return id;
      },
    });
  }
  return list;
}

/** Rewrites every file; the lifetime is the shortest of them (each is replaced on the same schedule). */
async function writeAll(list: ReturnType<typeof writers>, stored: StoredToken): Promise<Lifetime> {
  const lifetimes = await Promise.all(list.map((w) => w.write(stored)));
  return { issuedAt: Math.min(...lifetimes.map((l) => l.issuedAt)), expiresAt: Math.min(...lifetimes.map((l) => l.expiresAt)) };
}

function exportAws(credentials: AwsCredentials): void {
  mask(credentials.accessKeyId);
  mask(credentials.secretAccessKey);
  mask(credentials.sessionToken);
  exportVariable('AWS_ACCESS_KEY_ID', credentials.accessKeyId);
  exportVariable('AWS_SECRET_ACCESS_KEY', credentials.secretAccessKey);
  exportVariable('AWS_SESSION_TOKEN', credentials.sessionToken);
  exportVariable('AWS_CREDENTIAL_EXPIRATION', isoSeconds(credentials.expiration));
}

async function main(): Promise<void> {
  saveState('isPost', 'true');
  const plan = readPlan();
  const temp = process.env.RUNNER_TEMP;
  if (!temp) throw new ActionError('runner_error', 'RUNNER_TEMP is not set: run this as a GitHub Actions step');
  // Files go under RUNNER_TEMP, which the runner empties after each job, never under the workspace,
  // whose files end up in artifacts and caches.
  const dir = await mkdtemp(join(resolve(temp), 'fedbroker-'));
  if (plan.aws) {
    // The account id appears in ARNs the SDKs and tools print; configure-aws-credentials masks it too.
    mask(plan.aws.accountId);
    if (plan.aws.region) {
      exportVariable('AWS_REGION', plan.aws.region);
      exportVariable('AWS_DEFAULT_REGION', plan.aws.region);
    }
  }
  const stored = await signIn(plan, true);
  info(`fedbroker: signed in to tenant ${plan.tenant} as ${stored.sub}`);
  setOutput('principal', stored.sub);
  const list = writers(plan, dir);
  const first = list.length ? await writeAll(list, stored) : undefined;

  if (plan.aws) {
    const aws = plan.aws;
    const path = join(dir, 'aws-web-identity-token');
    const sessionName = aws.sessionName || defaultSessionName(plan.tenant, stored.sub);
    // Assumed once even in refresh mode: a trust policy that refuses the role fails this step, with STS's hint.
    const id = await issueStsIdToken(stored, aws.duration);
    const credentials = await assumeRoleWithWebIdentity({ roleArn: aws.roleArn, sessionName, durationSeconds: aws.duration, id });
    if (plan.refresh) {
      // No static keys: the SDKs and the AWS CLI assume the role themselves and re-read the file at
      // every refresh, so credentials outlive the job token and the STS session.
      exportVariable('AWS_ROLE_ARN', aws.roleArn);
      exportVariable('AWS_WEB_IDENTITY_TOKEN_FILE', path);
      exportVariable('AWS_ROLE_SESSION_NAME', sessionName);
      setOutput('aws-web-identity-token-file', path);
    } else if (aws.profile) {
      mask(credentials.accessKeyId);
      mask(credentials.secretAccessKey);
      mask(credentials.sessionToken);
      exportVariable('AWS_SHARED_CREDENTIALS_FILE', join(dir, 'aws-credentials'));
      await writeProfile(aws.profile, credentials, join(dir, 'aws-credentials'));
    } else {
      exportAws(credentials);
    }
    setOutput('aws-credentials-expiration', isoSeconds(credentials.expiration));
    info(`fedbroker: AWS credentials for role ${aws.roleArn.slice(aws.roleArn.lastIndexOf('/') + 1)} (session ${sessionName})`);
  }
  if (plan.idTokenAudience) {
    const id = await issueIdTokenFor(stored, plan.idTokenAudience);
    mask(id.token);
    setOutput('id-token', id.token);
    info(`fedbroker: ID token for ${plan.idTokenAudience}, valid until ${isoSeconds(new Date(id.expiresAt))}`);
  }
  if (plan.gcp) {
    const gcp = plan.gcp;
    const config = join(dir, 'gcp-credential-config.json');
    const impersonationUrl = gcp.serviceAccount
      ? `https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/${gcp.serviceAccount}:generateAccessToken`
      : undefined;
    const document = externalAccountConfig({
      audience: gcp.provider,
      tokenUrl: getInput('gcp-token-url') || 'https://sts.googleapis.com/v1/token',
      impersonationUrl,
      source: { file: join(dir, 'gcp-subject-token'), format: { type: 'text' } },
    });
    await writePrivateFile(config, `${JSON.stringify(document, null, 2)}\n`);
    exportVariable('GOOGLE_APPLICATION_CREDENTIALS', config);
    exportVariable('CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE', config);
    setOutput('gcp-credentials-file', config);
    info(`fedbroker: Google credential configuration for ${gcp.provider}`);
  }
  if (plan.azure) {
    const path = join(dir, 'azure-federated-token');
    exportVariable('AZURE_FEDERATED_TOKEN_FILE', path);
    exportVariable('AZURE_CLIENT_ID', plan.azure.clientId);
    exportVariable('AZURE_TENANT_ID', plan.azure.tenantId);
    exportVariable('AZURE_AUTHORITY_HOST', plan.azure.authorityHost);
    setOutput('azure-federated-token-file', path);
    info(`fedbroker: Azure federated token file for client ${plan.azure.clientId}`);
  }
  if (plan.refresh && first && list.length) startRefresher(dir, first);
}

/**
 * Keeps the token files fresh for the rest of the job in a detached process (the runner ends it
 * with the job; the post step ends it first). Each refresh asks the runner for a new job token —
 * ACTIONS_ID_TOKEN_REQUEST_TOKEN is valid for the whole job — so nothing outlives GitHub's 5-minute token.
 */
function startRefresher(dir: string, first: Lifetime): void {
  const log = openSync(join(dir, 'refresher.log'), 'a', 0o600);
  const child = spawn(process.execPath, [process.argv[1] ?? ''], {
    detached: true,
    stdio: ['ignore', log, log],
    env: { ...process.env, FEDBROKER_ACTION_REFRESHER: dir, FEDBROKER_ACTION_FIRST: JSON.stringify(first) },
  });
  child.unref();
  saveState('refresher_pid', String(child.pid));
  info(`fedbroker: refreshing the token files in the background until the job ends (log: ${join(dir, 'refresher.log')})`);
}

async function refresher(dir: string): Promise<void> {
  const plan = readPlan();
  const list = writers(plan, dir);
  const first = JSON.parse(process.env.FEDBROKER_ACTION_FIRST ?? '{}') as Lifetime;
  const timeScale = Number(process.env.FEDBROKER_ACTION_TIME_SCALE ?? 1) || 1;
  await refreshUntilStopped(
    list.map((w) => w.path).join(', '),
    first,
    async () => writeAll(list, await signIn(plan, false)),
    { maxFailures: 5, timeScale },
    plan.azure ? AZURE_READER_CACHE_MS : 0,
  );
}

/** The post step: stop the refresher (the files themselves go with RUNNER_TEMP). */
function post(): void {
  const pid = Number(getState('refresher_pid'));
  if (!pid) return;
  try {
    process.kill(pid, 'SIGTERM');
    info('fedbroker: stopped the token refresher');
  } catch {
    // Already gone (it gave up, or the runner ended it).
  }
}

async function run(): Promise<number> {
  try {
    const refresherDir = process.env.FEDBROKER_ACTION_REFRESHER;
    if (refresherDir) await refresher(refresherDir);
    else if (getState('isPost') === 'true') post();
    else await main();
    return 0;
  } catch (e) {
    const failure = e instanceof ActionError ? e : toCliError(e);
    const code = failure instanceof CliError ? failure.error : failure.code;
    error(`fedbroker: ${code}: ${redact(failure.message).replace(/\s*\n\s*/g, ' ')}`);
    return 1;
  }
}

process.exitCode = await run();

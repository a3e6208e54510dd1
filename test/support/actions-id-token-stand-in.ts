// A stand-in for the GitHub Actions OIDC provider, both halves a job sees: the runner's ID-token
// request endpoint (ACTIONS_ID_TOKEN_REQUEST_URL, which already carries `api-version`; the client
// adds `audience` and sends ACTIONS_ID_TOKEN_REQUEST_TOKEN as bearer; the answer is
// `{"value": "<jwt>"}`), and the issuer's discovery document and JWKS (served at
// /.well-known/openid-configuration and /.well-known/jwks, as token.actions.githubusercontent.com
// does). Tokens carry GitHub's claims ("OpenID Connect reference": sub, repository, repository_id,
// repository_owner, repository_owner_id, ref, ref_type, environment, event_name, workflow_ref,
// job_workflow_ref, runner_environment, run_id, …) and live 5 minutes. `sub` comes in both forms:
// `repo:<owner>/<repo>:ref:<ref>` (or `:environment:<name>`) and the immutable one with the
// owner's and repository's numeric ids, `repo:<owner>@<owner_id>/<repo>@<repo_id>:…`.
import { randomBytes, randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { listen } from './http-server.ts';

export interface ActionsJob {
  repository: string; // owner/repo
  repositoryId: string;
  ownerId: string;
  ref: string;
  environment?: string;
  /** The immutable `sub` form, with numeric ids. */
  immutableSub?: boolean;
}

export interface ActionsIdTokenStandIn {
  issuer: string;
  /** ACTIONS_ID_TOKEN_REQUEST_URL / ACTIONS_ID_TOKEN_REQUEST_TOKEN for a job. */
  requestUrl: string;
  requestToken: string;
  /** The job whose tokens it mints from now on. */
  job: ActionsJob;
  /** Tokens handed out: their audiences. */
  requests: string[];
  /** The `sub` GitHub would put in this job's tokens. */
  subject(job?: ActionsJob): string;
  close(): Promise<void>;
}

function githubSubject(job: ActionsJob): string {
  const [owner, repo] = job.repository.split('/') as [string, string];
  const repository = job.immutableSub ? `${owner}@${job.ownerId}/${repo}@${job.repositoryId}` : job.repository;
  return `repo:${repository}:${job.environment ? `environment:${job.environment}` : `ref:${job.ref}`}`;
}

export async function startActionsIdTokenStandIn(job: ActionsJob): Promise<ActionsIdTokenStandIn> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = randomBytes(8).toString('hex');
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  const requestToken = randomBytes(24).toString('base64url');
  const state = { job };
  const requests: string[] = [];
  let issuer = '';

  const mint = async (audience: string) => {
    const j = state.job;
    const [owner] = j.repository.split('/');
    const now = Math.floor(Date.now() / 1000);
    const workflowRef = `${j.repository}/.github/workflows/deploy.yml@${j.ref}`;
    return new SignJWT({
      jti: randomUUID(),
      sub: githubSubject(j),
      aud: audience,
      ref: j.ref,
      sha: randomBytes(20).toString('hex'),
      repository: j.repository,
      repository_id: j.repositoryId,
      repository_owner: owner,
      repository_owner_id: j.ownerId,
      repository_visibility: 'private',
      run_id: '9000000001',
      run_number: '42',
      run_attempt: '1',
      actor: 'octocat',
      actor_id: '583231',
      workflow: 'deploy',
      workflow_ref: workflowRef,
      job_workflow_ref: workflowRef,
      event_name: 'push',
      ref_type: 'branch',
      ref_protected: 'true',
      runner_environment: 'github-hosted',
      ...(j.environment ? { environment: j.environment } : {}),
      iss: issuer,
      nbf: now - 5,
      iat: now,
      exp: now + 300,
    })
      .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT', x5t: kid })
      .sign(privateKey);
  };

  const server = await listen(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const json = (status: number, body: unknown) => res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
    if (url.pathname === '/.well-known/openid-configuration') {
      return json(200, {
        issuer,
        jwks_uri: `${issuer}/.well-known/jwks`,
        subject_types_supported: ['public', 'pairwise'],
        response_types_supported: ['id_token'],
        claims_supported: ['sub', 'aud', 'exp', 'iat', 'iss', 'jti', 'nbf', 'ref', 'repository', 'repository_id', 'environment'],
        id_token_signing_alg_values_supported: ['RS256'],
        scopes_supported: ['openid'],
      });
    }
    if (url.pathname === '/.well-known/jwks') return json(200, { keys: [jwk] });
    if (url.pathname === '/_apis/actions/oidc/token') {
      if (req.headers.authorization !== `Bearer ${requestToken}`) return json(401, { message: 'Unauthorized' });
      if (url.searchParams.get('api-version') !== '2.0') return json(400, { message: 'api-version is required' });
      // Without `audience` GitHub uses the repository owner's URL; the action always names one.
      const audience = url.searchParams.get('audience') ?? `https://github.com/${state.job.repository.split('/')[0]}`;
      requests.push(audience);
      return json(200, { count: 1, value: await mint(audience) });
    }
    json(404, { message: 'Not Found' });
  });
  issuer = server.url;
  return {
    issuer,
    requestUrl: `${server.url}/_apis/actions/oidc/token?api-version=2.0`,
    requestToken,
    get job() {
      return state.job;
    },
    set job(j: ActionsJob) {
      state.job = j;
    },
    requests,
    subject: (j = state.job) => githubSubject(j),
    close: server.close,
  };
}

import { ActionError } from './runner.ts';

const TIMEOUT_MS = 10_000;

/**
 * The job's OIDC token for `audience` ("About security hardening with OpenID Connect", requesting
 * the token: GET ACTIONS_ID_TOKEN_REQUEST_URL with `audience`, bearer ACTIONS_ID_TOKEN_REQUEST_TOKEN,
 * answer `{"value": "<jwt>"}`). The variables exist only when the job has `permissions: id-token: write`.
 */
export async function requestActionsToken(audience: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const url = env.ACTIONS_ID_TOKEN_REQUEST_URL;
  const bearer = env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
  if (!url || !bearer) {
    throw new ActionError(
      'no_id_token_permission',
      'ACTIONS_ID_TOKEN_REQUEST_URL/TOKEN are not set: give the job `permissions: id-token: write` (and contents: read)',
    );
  }
  const target = new URL(url);
  target.searchParams.set('audience', audience);
  let res: Response;
  try {
    res = await fetch(target, {
      headers: { Authorization: `Bearer ${bearer}`, Accept: 'application/json; api-version=2.0' },
      redirect: 'manual',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (e) {
    const cause = e instanceof Error ? ((e.cause as { code?: string } | undefined)?.code ?? e.name) : 'error';
    throw new ActionError('id_token_request_failed', `cannot reach the Actions ID token endpoint (${cause})`);
  }
  const body = (await res.json().catch(() => undefined)) as { value?: unknown } | undefined;
  if (res.status !== 200 || typeof body?.value !== 'string') {
    throw new ActionError('id_token_request_failed', `the Actions ID token endpoint answered HTTP ${res.status} without a token`);
  }
  return body.value;
}

// Threat model I1 (a grant follows only from a relationship's current content), finding 1 of the
// trust-core review, one named case per way it was broken: a deleted relationship recreated under
// the same id, :explain showing the old policy, tokens regaining power on id reuse, and narrowing
// that left issued tokens at their old power. The stateful model test
// (trust-lifecycle.model.test.ts) covers random sequences of the same operations.
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SUBJECT_TOKEN_REFUSED } from '../../lib/app/exchange.ts';
import { ciRelationship, startExchangeEnv, external, TOKEN_TYPE, type ExchangeEnv } from '../support/security-env.ts';
import { startUpstreamIssuer, type UpstreamIssuer } from '../support/upstream-issuer.ts';

let env: ExchangeEnv;
let first: UpstreamIssuer;
let second: UpstreamIssuer;
let root: string;
const BASE = '/v1/tenants/acme/trust-relationships';

const doc = (issuer: string, overrides: Record<string, unknown> = {}) =>
  ciRelationship(issuer, { id: 'deploy', conditions: { StringEquals: { sub: 'ci' } }, ...overrides });

async function accessToken(upstream: UpstreamIssuer, sub = 'ci'): Promise<string> {
  const res = await env.exchange(external(await upstream.token({ sub })));
  expect(res.status, res.text).toBe(200);
  return res.body.access_token as string;
}
const idToken = (at: string) =>
  env.exchange({
    subject_token: at,
    subject_token_type: TOKEN_TYPE.accessToken,
    requested_token_type: TOKEN_TYPE.idToken,
    audience: 'sts.amazonaws.com',
  });
const current = async () => (await env.api('GET', `${BASE}/deploy`, root)).body as { version: number; generation: string };

beforeAll(async () => {
  env = await startExchangeEnv();
  [first, second] = await Promise.all([startUpstreamIssuer(), startUpstreamIssuer()]);
  await env.admin.tenant('acme', [
    {
      kind: 'oidc',
      id: 'root',
      issuer: first.issuer,
      audiences: ['fedbroker'],
      conditions: { StringEquals: { sub: 'root' } },
      scopes: ['trust:admin'],
    },
  ]);
  root = await accessToken(first, 'root');
});
afterAll(async () => {
  await Promise.all([first?.close(), second?.close()]);
  await env?.close();
});

describe('a relationship deleted and recreated under the same id', () => {
  it('is evaluated as recreated at once: the old issuer is refused, the new one admitted', async () => {
    expect((await env.api('POST', BASE, root, doc(first.issuer))).status).toBe(201);
    await accessToken(first); // compiled and cached in this container
    const { version } = await current();
    expect((await env.api('DELETE', `${BASE}/deploy`, root, undefined, { 'If-Match': `"${version}"` })).status).toBe(204);
    expect((await env.api('POST', BASE, root, doc(second.issuer, { scopes: ['id-token:issue'] }))).status).toBe(201);

    const old = await env.exchange(external(await first.token({ sub: 'ci' })));
    expect(old.status).toBe(400);
    expect(old.body.error_description).toBe(SUBJECT_TOKEN_REFUSED);
    expect((await env.exchange(external(await second.token({ sub: 'ci' })))).status).toBe(200);
  });

  it('never reuses a version: the recreated document continues after the deleted one', async () => {
    const before = await current();
    expect((await env.api('DELETE', `${BASE}/deploy`, root, undefined, { 'If-Match': `"${before.version}"` })).status).toBe(204);
    const recreated = await env.api('POST', BASE, root, doc(first.issuer));
    expect(recreated.status).toBe(201);
    expect(recreated.body.version).toBe(before.version + 1);
    expect(recreated.body.generation).not.toBe(before.generation);
    expect((recreated.headers as Headers).get('etag')).toBe(`"${before.version + 1}"`);
  });

  it('ends the access tokens the deleted one issued: they do not regain trust:admin when the id is reused', async () => {
    const token = await accessToken(first);
    expect((await env.api('GET', BASE, token)).status).toBe(200);
    const { version } = await current();
    expect((await env.api('DELETE', `${BASE}/deploy`, root, undefined, { 'If-Match': `"${version}"` })).status).toBe(204);
    expect((await env.api('POST', BASE, root, doc(first.issuer))).status).toBe(201); // same content, same id
    const res = await env.api('GET', BASE, token);
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_token');
    expect((await idToken(token)).body.error).toBe('invalid_request');
  });

  it(':explain reports the current policy, the one GET shows', async () => {
    const { version } = await current();
    const replaced = await env.api(
      'PUT',
      `${BASE}/deploy`,
      root,
      doc(first.issuer, { conditions: { StringEquals: { sub: 'someone-else' } } }),
      { 'If-Match': `"${version}"` },
    );
    expect(replaced.status).toBe(200);
    const res = await env.api('POST', `${BASE}:explain`, root, { token: await first.token({ sub: 'ci' }) });
    const deploy = (
      res.body.relationships as { id: string; matched: boolean; checks: { check: string; key?: string; matched: boolean }[] }[]
    ).find((r) => r.id === 'deploy');
    // The policy before the PUT admitted sub "ci"; the current one does not.
    expect(deploy?.matched).toBe(false);
    expect(deploy?.checks.find((c) => c.key === 'sub')).toMatchObject({ matched: false, seen: 'ci' });
  });
});

describe('changing a relationship in place', () => {
  it('rewriting its conditions ends the tokens it issued (new generation)', async () => {
    const { version } = await current();
    expect((await env.api('PUT', `${BASE}/deploy`, root, doc(first.issuer), { 'If-Match': `"${version}"` })).status).toBe(200);
    const token = await accessToken(first);
    const now = await current();
    expect(
      (
        await env.api('PUT', `${BASE}/deploy`, root, doc(first.issuer, { conditions: { StringEquals: { sub: ['ci', 'cd'] } } }), {
          'If-Match': `"${now.version}"`,
        })
      ).status,
    ).toBe(200);
    expect((await current()).generation).not.toBe(now.generation);
    expect((await idToken(token)).body.error).toBe('invalid_request');
  });

  it('narrowing its scopes takes the scopes from issued tokens at once, keeping the rest (same generation)', async () => {
    const token = await accessToken(first);
    expect((await env.api('GET', BASE, token)).status).toBe(200);
    const before = await current();
    expect(
      (
        await env.api(
          'PUT',
          `${BASE}/deploy`,
          root,
          doc(first.issuer, { conditions: { StringEquals: { sub: ['ci', 'cd'] } }, scopes: ['id-token:issue'] }),
          { 'If-Match': `"${before.version}"` },
        )
      ).status,
    ).toBe(200);
    expect((await current()).generation).toBe(before.generation);
    const res = await env.api('GET', BASE, token);
    expect(res.status).toBe(403);
    expect(res.body.error).toBe('insufficient_scope');
    expect((await idToken(token)).status).toBe(200);
  });

  it('lowering max_duration_seconds ends tokens older than the new cap', async () => {
    const token = await accessToken(first);
    const before = await current();
    const put = await env.api(
      'PUT',
      `${BASE}/deploy`,
      root,
      doc(first.issuer, { conditions: { StringEquals: { sub: ['ci', 'cd'] } }, scopes: ['id-token:issue'], max_duration_seconds: 60 }),
      {
        'If-Match': `"${before.version}"`,
      },
    );
    expect(put.status).toBe(200);
    // 60 s cap plus the verifier's 5 s skew: the token is judged against the cap now configured.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 66_000 });
    try {
      expect((await idToken(token)).body.error).toBe('invalid_request');
    } finally {
      vi.useRealTimers();
    }
  });

  it('disabling it ends its tokens; enabling it again, unchanged, restores them', async () => {
    const token = await accessToken(first);
    const before = await current();
    const spec = doc(first.issuer, {
      conditions: { StringEquals: { sub: ['ci', 'cd'] } },
      scopes: ['id-token:issue'],
      max_duration_seconds: 60,
    });
    expect((await env.api('PUT', `${BASE}/deploy`, root, { ...spec, enabled: false }, { 'If-Match': `"${before.version}"` })).status).toBe(
      200,
    );
    expect((await idToken(token)).body.error).toBe('invalid_request');
    expect((await env.api('PUT', `${BASE}/deploy`, root, spec, { 'If-Match': `"${before.version + 1}"` })).status).toBe(200);
    expect((await idToken(token)).status).toBe(200);
  });
});

describe('tokens derived from an access token', () => {
  it('an ID token asked for late never outlives iat + the relationship’s max_duration_seconds (clamped)', async () => {
    const created = await env.api(
      'POST',
      BASE,
      root,
      doc(first.issuer, {
        id: 'short',
        conditions: { StringEquals: { sub: 'short' } },
        scopes: ['id-token:issue'],
        max_duration_seconds: 600,
      }),
    );
    expect(created.status, created.text).toBe(201);
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    try {
      const at = await accessToken(first, 'short');
      const { iat } = decodeJwt(at);
      vi.setSystemTime(Date.now() + 590_000);
      const res = await env.exchange({
        subject_token: at,
        subject_token_type: TOKEN_TYPE.accessToken,
        requested_token_type: TOKEN_TYPE.idToken,
        audience: 'sts.amazonaws.com',
        duration_seconds: '600',
      });
      expect(res.status, res.text).toBe(200);
      expect(decodeJwt(res.body.access_token).exp! - iat!).toBeLessThanOrEqual(600);
      expect(res.body.expires_in).toBeLessThanOrEqual(10);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('versions under concurrent writers', () => {
  it('are never handed out twice for an id: 20 creates and deletes racing on one id', async () => {
    const seen: number[] = [];
    const attempt = async () => {
      const created = await env.api('POST', BASE, root, doc(first.issuer, { id: 'racy' }));
      if (created.status !== 201) return;
      seen.push(created.body.version as number);
      await env.api('DELETE', `${BASE}/racy`, root, undefined, { 'If-Match': `"${created.body.version}"` });
    };
    await Promise.all(Array.from({ length: 20 }, attempt));
    await attempt();
    expect(seen.length).toBeGreaterThan(1);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.at(-1)).toBe(Math.max(...seen));
  });
});

describe('If-Match', () => {
  it.each([
    ['a weak tag', (v: number) => `W/"${v}"`],
    ['an unquoted version', (v: number) => `${v}`],
    ['a wildcard', () => '*'],
    ['a list', (v: number) => `"${v}", "${v + 1}"`],
  ])('refuses %s with 412, writing nothing (RFC 9110 §13.1.1: strong comparison)', async (_name, tag) => {
    const before = await current();
    const res = await env.api('DELETE', `${BASE}/deploy`, root, undefined, { 'If-Match': tag(before.version) });
    expect(res.status).toBe(412);
    expect(res.body.error).toBe('precondition_failed');
    expect(await current()).toEqual(before);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type TestBroker } from '../support/broker.ts';
import { startGateway } from '../support/gateway.ts';
import { gatewayClient } from '../support/gateway-client.ts';
import { tenantAdmin } from '../support/tenants.ts';
import { startUpstreamIssuer, type UpstreamIssuer } from '../support/upstream-issuer.ts';

let broker: TestBroker;
let gateway: Awaited<ReturnType<typeof startGateway>>;
let upstream: UpstreamIssuer;
let adminA: string;
let adminB: string;
let readerA: string;

const admin = (sub: string) => ({
  kind: 'oidc' as const,
  id: 'admin',
  audiences: ['fedbroker'],
  conditions: { StringEquals: { sub } },
  scopes: ['trust:admin' as const, 'id-token:issue' as const],
});
const doc = (overrides: Record<string, unknown> = {}) => ({
  kind: 'oidc',
  issuer: upstream.issuer,
  audiences: ['fedbroker'],
  conditions: { StringLike: { sub: 'repo:acme/*' } },
  scopes: ['id-token:issue'],
  ...overrides,
});

const { tokenFor, api } = gatewayClient(
  () => gateway.url,
  () => upstream,
);

beforeAll(async () => {
  broker = await startBroker({ env: { FEDBROKER_LOCAL: 'true' } });
  gateway = await startGateway((m) => broker.load(m));
  upstream = await startUpstreamIssuer();
  const t = tenantAdmin(broker.tableName);
  await t.tenant('acme', [
    { ...admin('admin-a'), issuer: upstream.issuer },
    { ...admin('reader-a'), id: 'reader', scopes: ['id-token:issue'], issuer: upstream.issuer },
  ]);
  await t.tenant('globex', [{ ...admin('admin-b'), issuer: upstream.issuer }]);
  [adminA, adminB, readerA] = await Promise.all([tokenFor('acme', 'admin-a'), tokenFor('globex', 'admin-b'), tokenFor('acme', 'reader-a')]);
});
afterAll(async () => {
  await Promise.all([gateway.close(), upstream.close()]);
  await broker.close();
});

const base = '/v1/tenants/acme/trust-relationships';

describe('trust relationship admin API', () => {
  it('creates, reads, lists, replaces and deletes a relationship', async () => {
    const created = await api('POST', base, adminA, doc({ id: 'crud' }));
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id: 'crud', tenant: 'acme', version: 1, enabled: true, subject_template: '{trust}/{claims.sub}' });
    expect(created.headers.get('etag')).toBe('"1"');

    const got = await api('GET', `${base}/crud`, adminA);
    expect(got.body).toEqual(created.body);

    const list = await api('GET', base, adminA);
    expect(list.body.items.map((r: { id: string }) => r.id)).toEqual(expect.arrayContaining(['admin', 'crud', 'reader']));

    const replaced = await api('PUT', `${base}/crud`, adminA, doc({ enabled: false }), { 'If-Match': '"1"' });
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({ version: 2, enabled: false, created_at: created.body.created_at });

    expect((await api('DELETE', `${base}/crud`, adminA, undefined, { 'If-Match': '"2"' })).status).toBe(204);
    expect((await api('GET', `${base}/crud`, adminA)).status).toBe(404);
  });

  it('generates an id when the document has none', async () => {
    const created = await api('POST', base, adminA, doc());
    expect(created.body.id).toMatch(/^tr-[0-9a-f]{12}$/);
  });

  it('lets exactly one of two concurrent writers with the same If-Match win', async () => {
    await api('POST', base, adminA, doc({ id: 'race' }));
    const [a, b] = await Promise.all([
      api('PUT', `${base}/race`, adminA, doc({ description: 'writer a' }), { 'If-Match': '"1"' }),
      api('PUT', `${base}/race`, adminA, doc({ description: 'writer b' }), { 'If-Match': '"1"' }),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 412]);
    const winner = a.status === 200 ? a : b;
    const stored = await api('GET', `${base}/race`, adminA);
    expect(stored.body).toEqual(winner.body);
    expect(stored.body.version).toBe(2);
  });

  it('explains which check failed for each relationship', async () => {
    await api(
      'POST',
      base,
      adminA,
      doc({ id: 'main-only', conditions: { StringEquals: { sub: 'repo:acme/app', ref: 'refs/heads/main' } } }),
    );
    const token = await upstream.token({ sub: 'repo:acme/app', ref: 'refs/heads/dev' });
    const res = await api('POST', `${base}:explain`, adminA, { token });
    expect(res.status).toBe(200);
    expect(res.body.verified).toBe(true);
    const rel = res.body.relationships.find((r: { id: string }) => r.id === 'main-only');
    expect(rel.matched).toBe(false);
    expect(rel.checks).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ check: 'issuer', matched: true }),
        expect.objectContaining({ check: 'audience', matched: true }),
        expect.objectContaining({ check: 'condition', operator: 'StringEquals', key: 'sub', matched: true }),
        expect.objectContaining({ check: 'condition', operator: 'StringEquals', key: 'ref', matched: false, seen: 'refs/heads/dev' }),
      ]),
    );
  });

  it('explains that an unverifiable token matches nothing', async () => {
    const token = await upstream.token({ sub: 'repo:acme/app' }, { now: Date.now() - 7200_000 });
    const res = await api('POST', `${base}:explain`, adminA, { token });
    expect(res.body).toMatchObject({ verified: false, reason: 'expired' });
    expect(res.body.relationships.every((r: { matched: boolean }) => !r.matched)).toBe(true);
  });
});

describe('trust relationship admin API refuses', () => {
  it.each([
    ['a request without a token', 'GET', base, undefined, undefined, {}, 401, 'invalid_token'],
    ['a malformed bearer token', 'GET', base, 'not-a-jwt', undefined, {}, 401, 'invalid_token'],
    ['an external token used as a bearer token', 'GET', base, 'EXTERNAL', undefined, {}, 401, 'invalid_token'],
    ['a token without the trust:admin scope', 'GET', base, 'READER', undefined, {}, 403, 'insufficient_scope'],
    ['an admin token of another tenant', 'GET', base, 'B', undefined, {}, 403, 'insufficient_scope'],
    ['an admin token of another tenant on a write', 'POST', base, 'B', { kind: 'oidc' }, {}, 403, 'insufficient_scope'],
    ['an invalid tenant id in the path', 'GET', '/v1/tenants/ACME/trust-relationships', 'A', undefined, {}, 400, 'invalid_request'],
    ['an invalid relationship id in the path', 'GET', `${base}/Bad_Id`, 'A', undefined, {}, 400, 'invalid_request'],
    ['a relationship that does not exist', 'GET', `${base}/nope`, 'A', undefined, {}, 404, 'not_found'],
    ['a body that is not JSON', 'POST', base, 'A', '{not json', {}, 400, 'invalid_request'],
    ['a body without a content type', 'POST', base, 'A', undefined, {}, 400, 'invalid_request'],
    ['an unknown kind', 'POST', base, 'A', { kind: 'saml' }, {}, 400, 'invalid_request'],
    ['an unknown field', 'POST', base, 'A', 'DOC+{"extra":1}', {}, 400, 'invalid_request'],
    ['a relationship without audiences', 'POST', base, 'A', 'DOC+{"audiences":[]}', {}, 400, 'invalid_request'],
    ['an unknown scope', 'POST', base, 'A', 'DOC+{"scopes":["root"]}', {}, 400, 'invalid_request'],
    ['an unknown condition operator', 'POST', base, 'A', 'DOC+{"conditions":{"StringMatches":{"sub":"x"}}}', {}, 400, 'invalid_request'],
    ['an http issuer on a public host', 'POST', base, 'A', 'DOC+{"issuer":"http://issuer.example.com"}', {}, 400, 'invalid_request'],
    ['an issuer on the metadata address', 'POST', base, 'A', 'DOC+{"issuer":"https://169.254.169.254"}', {}, 400, 'invalid_request'],
    [
      'GitHub Actions without a subject condition',
      'POST',
      base,
      'A',
      'DOC+{"issuer":"https://token.actions.githubusercontent.com","conditions":{}}',
      {},
      400,
      'invalid_request',
    ],
    [
      'GitHub Actions pinned only to repo:*',
      'POST',
      base,
      'A',
      'DOC+{"issuer":"https://token.actions.githubusercontent.com","conditions":{"StringLike":{"sub":"repo:*"}}}',
      {},
      400,
      'invalid_request',
    ],
    [
      'a subject template with an unknown placeholder',
      'POST',
      base,
      'A',
      'DOC+{"subject_template":"{env.HOME}"}',
      {},
      400,
      'invalid_request',
    ],
    ['a session tag with a reserved key', 'POST', base, 'A', 'DOC+{"session_tags":{"aws:x":{"claim":"sub"}}}', {}, 400, 'invalid_request'],
    [
      'a session tag key with invalid characters',
      'POST',
      base,
      'A',
      'DOC+{"session_tags":{"bad*key":{"claim":"sub"}}}',
      {},
      400,
      'invalid_request',
    ],
    ['a duplicate id', 'POST', base, 'A', 'DOC+{"id":"admin"}', {}, 409, 'conflict'],
    ['a replace without If-Match', 'PUT', `${base}/admin`, 'A', 'DOC', {}, 428, 'precondition_required'],
    ['a replace with a stale If-Match', 'PUT', `${base}/admin`, 'A', 'DOC', { 'If-Match': '"7"' }, 412, 'precondition_failed'],
    ['a replace with a garbled If-Match', 'PUT', `${base}/admin`, 'A', 'DOC', { 'If-Match': 'yesterday' }, 412, 'precondition_failed'],
    ['a delete without If-Match', 'DELETE', `${base}/admin`, 'A', undefined, {}, 428, 'precondition_required'],
    ['a delete with a stale If-Match', 'DELETE', `${base}/admin`, 'A', undefined, { 'If-Match': '"9"' }, 412, 'precondition_failed'],
    ['an explain without a token', 'POST', `${base}:explain`, 'A', {}, {}, 400, 'invalid_request'],
    ['PATCH on a relationship', 'PATCH', `${base}/admin`, 'A', undefined, {}, 405, 'method_not_allowed'],
  ] as const)('%s', async (_name, method, path, who, body, headers, status, error) => {
    const token = { A: adminA, B: adminB, READER: readerA, EXTERNAL: await upstream.token({ sub: 'admin-a' }) }[who as string] ?? who;
    let payload: unknown = body;
    if (typeof body === 'string' && body.startsWith('DOC')) payload = { ...doc(), ...(body.length > 3 ? JSON.parse(body.slice(4)) : {}) };
    const res = await api(method, path, token, payload, headers as Record<string, string>);
    expect(res.status).toBe(status);
    expect(res.body.error).toBe(error);
    expect(res.text).not.toMatch(/eyJ|stack|at Object/);
  });

  it('lists every validation problem at once', async () => {
    const res = await api('POST', base, adminA, { ...doc(), audiences: [], scopes: ['root'] });
    expect(res.status).toBe(400);
    expect(res.body.error_description).toMatch(/audiences/);
    expect(res.body.error_description).toMatch(/scopes/);
  });
});

import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi, type MockInstance } from 'vitest';
import { Table } from '../../lib/aws/dynamo-table.ts';
import { startBroker, type TestBroker } from '../support/broker.ts';
import { startCognitoStandIn, type CognitoStandIn } from '../support/cognito-stand-in.ts';
import { postExchange, TOKEN_TYPE } from '../support/exchange-client.ts';
import { logsSubscriptionEvent } from '../support/events.ts';
import { startGateway } from '../support/gateway.ts';
import { tenantAdmin } from '../support/tenants.ts';
import { startUpstreamIssuer, type UpstreamIssuer } from '../support/upstream-issuer.ts';

// Every auditable action, one at a time: each must add exactly one `audit: true` line to the logs
// and, once the log subscription has delivered the lines to the auditIngest function (as deployed,
// FEDBROKER_AUDIT_TABLE_WRITE=subscription), exactly one record to the table, with the fields the
// trail promises and never a token.
const ISSUER = 'https://issuer.fedbroker.test';
const JWT = /eyJ[\w-]*\.[\w-]*\./;

let broker: TestBroker;
let gateway: Awaited<ReturnType<typeof startGateway>>;
let upstream: UpstreamIssuer;
let cognito: CognitoStandIn;
let table: Table;
let admin: string;
let captured: MockInstance[] = [];
let ingest: typeof import('../../functions/audit-ingest.ts').handler;
const lines: string[] = [];

type Item = Record<string, any>;

async function auditItems(): Promise<Item[]> {
  const out = await table.doc.send(new ScanCommand({ TableName: table.name, FilterExpression: 'begins_with(pk, :a)', ExpressionAttributeValues: { ':a': 'AUDIT#' } }));
  return out.Items ?? [];
}

/** Runs `action` and returns the audit items and audit log lines it added. */
async function recorded<T>(action: () => Promise<T>): Promise<{ result: T; items: Item[]; logged: Item[] }> {
  const before = new Set((await auditItems()).map((i) => `${i.pk}/${i.sk}`));
  const mark = lines.length;
  const result = await action();
  const auditLines = lines
    .slice(mark)
    .flatMap((l) => l.split('\n'))
    .filter((l) => l.startsWith('{') && (JSON.parse(l) as Item).audit === true);
  // What the deployment does: the subscription filter delivers the audit lines to auditIngest.
  if (auditLines.length > 0) await ingest(logsSubscriptionEvent(auditLines));
  const items = (await auditItems()).filter((i) => !before.has(`${i.pk}/${i.sk}`));
  const logged = auditLines.map((l) => JSON.parse(l) as Item);
  return { result, items, logged };
}

/** Exactly one record, stored and logged alike, under its day partition. */
function one(r: { items: Item[]; logged: Item[] }): Item {
  expect(r.items, JSON.stringify(r.items)).toHaveLength(1);
  expect(r.logged, JSON.stringify(r.logged)).toHaveLength(1);
  const item = r.items[0]!;
  expect(item.pk).toBe(`AUDIT#${item.tenant}#${String(item.time).slice(0, 10)}`);
  expect(item.sk).toMatch(new RegExp(`^${item.time}#[0-9a-f]{12}$`));
  const retention = Number(item.expires_at) - Date.parse(item.time) / 1000;
  expect(retention).toBeGreaterThan(90 * 86400 - 5);
  expect(retention).toBeLessThanOrEqual(90 * 86400);
  const { pk: _pk, sk, ...record } = item;
  expect(r.logged[0]).toMatchObject({ audit: true, id: sk, ...record });
  return item;
}

const exchange = (params: Record<string, string | undefined>) => postExchange(gateway.url, params);
const external = (claims: Record<string, unknown> = {}, now?: number) =>
  upstream.token({ sub: 'repo:acme/app', repository: 'acme/app', ...claims }, now === undefined ? {} : { now });

async function api(method: string, path: string, token: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${gateway.url}${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as Item };
}

beforeAll(async () => {
  [upstream, cognito] = await Promise.all([startUpstreamIssuer(), startCognitoStandIn()]);
  broker = await startBroker({ env: { FEDBROKER_LOCAL: 'true', AWS_ENDPOINT_URL_COGNITO_IDENTITY: cognito.url, FEDBROKER_AUDIT_TABLE_WRITE: 'subscription' } });
  gateway = await startGateway((m) => broker.load(m));
  table = new Table(broker.tableName);
  const rel = { kind: 'oidc' as const, issuer: upstream.issuer, audiences: ['fedbroker'] };
  await tenantAdmin(broker.tableName).tenant('acme', [
    { ...rel, id: 'admin', conditions: { StringEquals: { sub: 'admin-a' } }, scopes: ['trust:admin', 'audit:read'] },
    { ...rel, id: 'ci', conditions: { StringLike: { sub: 'repo:acme/*' } }, scopes: ['id-token:issue', 'aws:cognito'], session_tags: { repo: { claim: 'repository' } } },
  ]);
  // Audit lines are only printed below SILENT: a fresh module graph at INFO, its output captured.
  broker.coldStart({ POWERTOOLS_LOG_LEVEL: 'INFO' });
  ({ handler: ingest } = await broker.load<typeof import('../../functions/audit-ingest.ts')>('functions/audit-ingest.ts'));
  captured = [process.stdout, process.stderr].map((stream) =>
    vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return true;
    }),
  );
  const res = await exchange({ subject_token: await upstream.token({ sub: 'admin-a' }), subject_token_type: TOKEN_TYPE.idToken, tenant: 'acme' });
  admin = res.body.access_token as string;
});
afterAll(async () => {
  for (const spy of captured) spy.mockRestore();
  await Promise.all([gateway?.close(), upstream?.close(), cognito?.close()]);
  await broker?.close();
});

describe('audit records of exchanges', () => {
  it('records a granted exchange with every field, and the same record in the logs', async () => {
    const r = await recorded(async () => exchange({ subject_token: await external(), subject_token_type: TOKEN_TYPE.idToken, tenant: 'acme' }));
    expect(r.result.status).toBe(200);
    const item = one(r);
    expect(item).toMatchObject({
      event: 'token.exchange',
      outcome: 'success',
      tenant: 'acme',
      trust: 'ci',
      principal: 'acme/ci/repo:acme/app',
      source_issuer: upstream.issuer,
      source_subject: 'repo:acme/app',
      audience: ISSUER,
      scopes: ['id-token:issue', 'aws:cognito'],
      jti: decodeJwt(r.result.body.access_token).jti,
      request_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      source_ip: expect.stringMatching(/127\.0\.0\.1/),
    });
    expect(Date.parse(item.time)).toBeGreaterThan(Date.now() - 60_000);
    expect(item.reason).toBeUndefined();
  });

  it('records an ID token issued, with its audience and the access token it came from', async () => {
    const at = (await exchange({ subject_token: await external(), subject_token_type: TOKEN_TYPE.idToken, tenant: 'acme' })).body.access_token as string;
    const params = { subject_token: at, subject_token_type: TOKEN_TYPE.accessToken, requested_token_type: TOKEN_TYPE.idToken, audience: 'sts.amazonaws.com' };
    const r = await recorded(() => exchange(params));
    expect(one(r)).toMatchObject({
      event: 'id_token.issue',
      outcome: 'success',
      tenant: 'acme',
      principal: 'acme/ci/repo:acme/app',
      source_issuer: ISSUER,
      audience: 'sts.amazonaws.com',
      jti: decodeJwt(r.result.body.access_token).jti,
      detail: { source_jti: decodeJwt(at).jti },
    });
  });

  it('records a refusal for an expired subject token with reason expired', async () => {
    const r = await recorded(async () => exchange({ subject_token: await external({}, Date.now() - 3600_000), subject_token_type: TOKEN_TYPE.idToken, tenant: 'acme' }));
    expect(r.result.status).toBe(400);
    expect(one(r)).toMatchObject({ event: 'token.exchange', outcome: 'refused', reason: 'expired', tenant: 'acme', source_issuer: upstream.issuer, source_subject: 'repo:acme/app' });
  });

  it('records a refusal for an unknown scope with reason ERR_INVALID_SCOPE', async () => {
    const r = await recorded(async () => exchange({ subject_token: await external(), subject_token_type: TOKEN_TYPE.idToken, tenant: 'acme', scope: 'root' }));
    expect(one(r)).toMatchObject({ event: 'token.exchange', outcome: 'refused', reason: 'ERR_INVALID_SCOPE', tenant: 'acme', scopes: ['root'] });
  });

  it('records a refused ID token for a disallowed audience with reason ERR_INVALID_TARGET', async () => {
    const params = { subject_token: await external(), subject_token_type: TOKEN_TYPE.idToken, tenant: 'acme', requested_token_type: TOKEN_TYPE.idToken, audience: 'https://evil.example' };
    const r = await recorded(() => exchange(params));
    expect(one(r)).toMatchObject({ event: 'id_token.issue', outcome: 'refused', reason: 'ERR_INVALID_TARGET', audience: 'https://evil.example' });
  });

  it('records a revoked access token presented again with reason token_revoked, under its tenant', async () => {
    const at = (await exchange({ subject_token: await external(), subject_token_type: TOKEN_TYPE.idToken, tenant: 'acme' })).body.access_token as string;
    expect((await api('POST', '/v1/tenants/acme/revocations', admin, { token: at })).status).toBe(200);
    const r = await recorded(() => exchange({ subject_token: at, subject_token_type: TOKEN_TYPE.accessToken, requested_token_type: TOKEN_TYPE.idToken, audience: 'sts.amazonaws.com' }));
    expect(one(r)).toMatchObject({ event: 'id_token.issue', outcome: 'refused', reason: 'token_revoked', tenant: 'acme', principal: 'acme/ci/repo:acme/app' });
  });

  it('records a malformed request that names no tenant under _unknown', async () => {
    const r = await recorded(() => postExchange(gateway.url, {}, { contentType: 'application/json', rawBody: '{}' }));
    expect(one(r)).toMatchObject({ event: 'token.exchange', outcome: 'refused', reason: 'ERR_INVALID_REQUEST', tenant: '_unknown' });
  });

  it('scrubs tokens out of attacker-chosen claims and parameters', async () => {
    const planted = 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.c2ln';
    const r = await recorded(async () =>
      exchange({ subject_token: await external({ sub: `repo:acme/${planted}`, aud: 'x' }), subject_token_type: TOKEN_TYPE.idToken, tenant: 'acme', audience: planted }),
    );
    const item = one(r);
    expect(item.source_subject).toBe('repo:acme/[jwt]');
    expect(JSON.stringify(item)).not.toMatch(JWT);
  });
});

describe('audit records of admin changes', () => {
  it('records trust relationship create, replace and delete, one each', async () => {
    const doc = { kind: 'oidc', issuer: upstream.issuer, audiences: ['fedbroker'], conditions: { StringEquals: { sub: 'x' } }, scopes: ['id-token:issue'] };
    const base = '/v1/tenants/acme/trust-relationships';
    const created = await recorded(() => api('POST', base, admin, { ...doc, id: 'audited' }));
    const replaced = await recorded(() => api('PUT', `${base}/audited`, admin, doc, { 'If-Match': '"1"' }));
    const deleted = await recorded(() => api('DELETE', `${base}/audited`, admin, undefined, { 'If-Match': '"2"' }));
    const who = { tenant: 'acme', trust: 'admin', principal: 'acme/admin/admin-a', jti: decodeJwt(admin).jti, target: 'audited', outcome: 'success' };
    expect(one(created)).toMatchObject({ ...who, event: 'trust_relationship.create', detail: { version: 1 }, request_id: expect.any(String), source_ip: expect.any(String) });
    expect(one(replaced)).toMatchObject({ ...who, event: 'trust_relationship.replace', detail: { version: 2 } });
    expect(one(deleted)).toMatchObject({ ...who, event: 'trust_relationship.delete', detail: { version: 2 } });
  });

  it('records identity pool create, replace and delete, one each', async () => {
    const id = cognito.createPool({ developerProvider: 'fedbroker' });
    await tenantAdmin(broker.tableName).allowPool('acme', id);
    const base = '/v1/tenants/acme/cognito-identity-pools';
    const created = await recorded(() => api('POST', base, admin, { identity_pool_id: id }));
    const replaced = await recorded(() => api('PUT', `${base}/${id}`, admin, { identity_pool_id: id, max_duration_seconds: 600 }, { 'If-Match': '"1"' }));
    expect(one(created)).toMatchObject({ event: 'identity_pool.create', target: id, principal: 'acme/admin/admin-a' });
    expect(one(replaced)).toMatchObject({ event: 'identity_pool.replace', target: id });
    // Vending through it is audited too, before the pool goes away.
    const ci = (await exchange({ subject_token: await external(), subject_token_type: TOKEN_TYPE.idToken, tenant: 'acme' })).body.access_token as string;
    const vended = await recorded(() => api('POST', '/v1/aws/cognito-identity-token', ci, { identity_pool_id: id }));
    expect(vended.result.status).toBe(200);
    expect(one(vended)).toMatchObject({ event: 'cognito_token.issue', outcome: 'success', audience: id, principal: 'acme/ci/repo:acme/app', detail: { source_jti: decodeJwt(ci).jti } });
    const deleted = await recorded(() => api('DELETE', `${base}/${id}`, admin, undefined, { 'If-Match': '"2"' }));
    expect(one(deleted)).toMatchObject({ event: 'identity_pool.delete', target: id });
  });

  it('records a revocation with the revoked jti as its target', async () => {
    const at = (await exchange({ subject_token: await external(), subject_token_type: TOKEN_TYPE.idToken, tenant: 'acme' })).body.access_token as string;
    const r = await recorded(() => api('POST', '/v1/tenants/acme/revocations', admin, { token: at }));
    expect(one(r)).toMatchObject({ event: 'token.revoke', outcome: 'success', tenant: 'acme', principal: 'acme/admin/admin-a', target: decodeJwt(at).jti, detail: { revoked: true } });
  });

  it('records every signing key state change of a rotation, one each, under _system', async () => {
    const [{ rotateKeys }, { rotationDeps, runtime }] = await Promise.all([
      broker.load<typeof import('../../lib/keys/rotation.ts')>('lib/keys/rotation.ts'),
      broker.load<typeof import('../../lib/runtime.ts')>('lib/runtime.ts'),
    ]);
    const r = await recorded(() => rotateKeys(rotationDeps(runtime()), { force: true, actor: 'audit-test' }));
    expect(r.result.events.length).toBeGreaterThan(0);
    expect(r.items).toHaveLength(r.result.events.length);
    expect(r.logged).toHaveLength(r.result.events.length);
    for (const e of r.result.events) {
      expect(r.items).toContainEqual(
        expect.objectContaining({ event: 'key.state_change', tenant: '_system', principal: 'audit-test', target: e.kid, detail: { from: e.from, to: e.to, forced: e.forced } }),
      );
    }
  });
});

describe('the audit trail never holds a token', () => {
  it('in any stored record or any log line', async () => {
    const items = await auditItems();
    expect(items.length).toBeGreaterThan(10);
    for (const item of items) expect(JSON.stringify(item)).not.toMatch(JWT);
    const logged = lines.join('');
    expect(logged).toContain('"audit":true');
    expect(logged).not.toMatch(JWT);
  });
});

describe('the audit trail fails closed', () => {
  it('refuses to grant (503 temporarily_unavailable) when audit lines are silenced and no other copy is configured', async () => {
    const silenced = await startBroker({ env: { FEDBROKER_LOCAL: 'true', FEDBROKER_AUDIT_TABLE_WRITE: 'subscription', POWERTOOLS_LOG_LEVEL: 'SILENT' } });
    const front = await startGateway((m) => silenced.load(m));
    try {
      await tenantAdmin(silenced.tableName).tenant('acme', [{ kind: 'oidc', id: 'ci', issuer: upstream.issuer, audiences: ['fedbroker'], conditions: { StringLike: { sub: 'repo:acme/*' } }, scopes: ['id-token:issue'] }]);
      const res = await postExchange(front.url, { subject_token: await external(), subject_token_type: TOKEN_TYPE.idToken, tenant: 'acme' });
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ error: 'temporarily_unavailable' });
      expect(res.body).not.toHaveProperty('access_token');
    } finally {
      await front.close();
      await silenced.close();
    }
  });
});

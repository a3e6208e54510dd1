import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { decodeJwt } from 'jose';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { REFUSAL_RECORDS_PER_MINUTE } from '../../lib/audit/refusal-limiter.ts';
import { Table } from '../../lib/aws/dynamo-table.ts';
import { startBroker, type TestBroker } from '../support/broker.ts';
import { startCognitoStandIn, type CognitoStandIn } from '../support/cognito-stand-in.ts';
import { postExchange, TOKEN_TYPE } from '../support/exchange-client.ts';
import { httpEvent, lambdaContext, logsSubscriptionEvent } from '../support/events.ts';
import { signJws } from '../support/jws.ts';
import { startGateway } from '../support/gateway.ts';
import { tenantAdmin } from '../support/tenants.ts';
import { startUpstreamIssuer, type UpstreamIssuer } from '../support/upstream-issuer.ts';
import type { JsonBody } from '../support/json-body.ts';

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

type Item = JsonBody;

async function auditItems(): Promise<Item[]> {
  const out = await table.doc.send(
    new ScanCommand({ TableName: table.name, FilterExpression: 'begins_with(pk, :a)', ExpressionAttributeValues: { ':a': 'AUDIT#' } }),
  );
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

/** An access token shaped like fedbroker's, claiming whatever the attacker likes, signed by a key fedbroker never saw. */
const attackerKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
function forgedAccessToken(claims: Record<string, unknown>): string {
  const now = Math.floor(Date.now() / 1000);
  return signJws(
    'RS256',
    attackerKey,
    { alg: 'RS256', typ: 'at+jwt', kid: 'forged' },
    {
      iss: ISSUER,
      aud: ISSUER,
      iat: now,
      exp: now + 900,
      jti: randomUUID(),
      tenant_id: 'acme',
      trust: 'admin',
      scope: 'trust:admin audit:read',
      ...claims,
    },
  );
}
const UNVERIFIED_AS_VERIFIED = ['principal', 'trust', 'source_issuer', 'source_subject'];

type Handler = (event: unknown, context: unknown) => Promise<{ statusCode: number }>;
/** Calls a handler straight, as API Gateway would from `sourceIp`: the limiter keys on the source address. */
async function invoke(
  module: string,
  sourceIp: string,
  init: { headers?: Record<string, string>; body: string; path: string },
): Promise<number> {
  const { handler } = await broker.load<{ handler: Handler }>(module);
  const event = httpEvent('POST', init.path, { headers: init.headers, body: init.body });
  event.requestContext.http.sourceIp = sourceIp;
  return (await handler(event, lambdaContext())).statusCode;
}
const forgedExchange = (sourceIp: string) =>
  invoke('functions/token.ts', sourceIp, {
    path: '/v1/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      subject_token: forgedAccessToken({ sub: 'acme/admin/flood' }),
      subject_token_type: TOKEN_TYPE.accessToken,
    }).toString(),
  });
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
  broker = await startBroker({
    env: { FEDBROKER_LOCAL: 'true', AWS_ENDPOINT_URL_COGNITO_IDENTITY: cognito.url, FEDBROKER_AUDIT_TABLE_WRITE: 'subscription' },
  });
  gateway = await startGateway((m) => broker.load(m));
  table = new Table(broker.tableName);
  const rel = { kind: 'oidc' as const, issuer: upstream.issuer, audiences: ['fedbroker'] };
  await tenantAdmin(broker.tableName).tenant('acme', [
    { ...rel, id: 'admin', conditions: { StringEquals: { sub: 'admin-a' } }, scopes: ['trust:admin', 'audit:read'] },
    {
      ...rel,
      id: 'ci',
      conditions: { StringLike: { sub: 'repo:acme/*' } },
      scopes: ['id-token:issue', 'aws:cognito'],
      session_tags: { repo: { claim: 'repository' } },
    },
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
  const res = await exchange({
    subject_token: await upstream.token({ sub: 'admin-a' }),
    subject_token_type: TOKEN_TYPE.idToken,
    tenant: 'acme',
  });
  admin = res.body.access_token as string;
});
afterAll(async () => {
  for (const spy of captured) spy.mockRestore();
  await Promise.all([gateway?.close(), upstream?.close(), cognito?.close()]);
  await broker?.close();
});

describe('audit records of exchanges', () => {
  it('records a granted exchange with every field, and the same record in the logs', async () => {
    const r = await recorded(async () =>
      exchange({ subject_token: await external(), subject_token_type: TOKEN_TYPE.idToken, tenant: 'acme' }),
    );
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
    const at = (await exchange({ subject_token: await external(), subject_token_type: TOKEN_TYPE.idToken, tenant: 'acme' })).body
      .access_token as string;
    const params = {
      subject_token: at,
      subject_token_type: TOKEN_TYPE.accessToken,
      requested_token_type: TOKEN_TYPE.idToken,
      audience: 'sts.amazonaws.com',
    };
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

  it('regression: records a refused external token under the tenant it named, its iss and sub as claimed_*, no principal', async () => {
    const r = await recorded(async () =>
      exchange({ subject_token: await external({}, Date.now() - 3600_000), subject_token_type: TOKEN_TYPE.idToken, tenant: 'acme' }),
    );
    expect(r.result.status).toBe(400);
    const item = one(r);
    expect(item).toMatchObject({
      event: 'token.exchange',
      outcome: 'refused',
      reason: 'expired',
      tenant: 'acme',
      claimed_issuer: upstream.issuer,
      claimed_subject: 'repo:acme/app',
    });
    for (const field of UNVERIFIED_AS_VERIFIED) expect(item).not.toHaveProperty(field);
  });

  it('regression: records a forged at+jwt under _unknown, its tenant_id, sub and trust as claimed_*, no principal', async () => {
    const r = await recorded(() =>
      exchange({ subject_token: forgedAccessToken({ sub: 'acme/admin/admin-a' }), subject_token_type: TOKEN_TYPE.accessToken }),
    );
    expect(r.result.status).toBe(400);
    const item = one(r);
    expect(item).toMatchObject({
      event: 'token.exchange',
      outcome: 'refused',
      tenant: '_unknown',
      claimed_tenant: 'acme',
      claimed_principal: 'acme/admin/admin-a',
      claimed_trust: 'admin',
      claimed_issuer: ISSUER,
      claimed_subject: 'acme/admin/admin-a',
    });
    for (const field of UNVERIFIED_AS_VERIFIED) expect(item).not.toHaveProperty(field);
  });

  it("regression: the tenant's audit API filtered by a forged sub finds nothing, though the refusal is in its trail", async () => {
    const since = new Date(Date.now() - 1000).toISOString();
    const r = await recorded(() =>
      exchange({
        subject_token: forgedAccessToken({ sub: 'acme/admin/mallory' }),
        subject_token_type: TOKEN_TYPE.accessToken,
        tenant: 'acme',
      }),
    );
    expect(one(r)).toMatchObject({ tenant: 'acme', claimed_principal: 'acme/admin/mallory' });
    const filtered = await api('GET', `/v1/tenants/acme/audit?${new URLSearchParams({ since, principal: 'acme/admin/mallory' })}`, admin);
    expect(filtered.status).toBe(200);
    expect(filtered.body.items).toEqual([]);
    const all = await api('GET', `/v1/tenants/acme/audit?${new URLSearchParams({ since })}`, admin);
    expect(all.body.items).toContainEqual(expect.objectContaining({ outcome: 'refused', claimed_principal: 'acme/admin/mallory' }));
  });

  it('records a refusal for an unknown scope with reason ERR_INVALID_SCOPE', async () => {
    const r = await recorded(async () =>
      exchange({ subject_token: await external(), subject_token_type: TOKEN_TYPE.idToken, tenant: 'acme', scope: 'root' }),
    );
    expect(one(r)).toMatchObject({
      event: 'token.exchange',
      outcome: 'refused',
      reason: 'ERR_INVALID_SCOPE',
      tenant: 'acme',
      scopes: ['root'],
    });
  });

  it('records a refused ID token for a disallowed audience with reason ERR_INVALID_TARGET', async () => {
    const params = {
      subject_token: await external(),
      subject_token_type: TOKEN_TYPE.idToken,
      tenant: 'acme',
      requested_token_type: TOKEN_TYPE.idToken,
      audience: 'https://evil.example',
    };
    const r = await recorded(() => exchange(params));
    expect(one(r)).toMatchObject({
      event: 'id_token.issue',
      outcome: 'refused',
      reason: 'ERR_INVALID_TARGET',
      audience: 'https://evil.example',
    });
  });

  it(
    'records a revoked access token presented again in its tenant with reason token_revoked, and its ' +
      'verified principal (its signature verified)',
    async () => {
      const at = (await exchange({ subject_token: await external(), subject_token_type: TOKEN_TYPE.idToken, tenant: 'acme' })).body
        .access_token as string;
      expect((await api('POST', '/v1/tenants/acme/revocations', admin, { token: at })).status).toBe(200);
      const r = await recorded(() =>
        exchange({
          subject_token: at,
          subject_token_type: TOKEN_TYPE.accessToken,
          requested_token_type: TOKEN_TYPE.idToken,
          audience: 'sts.amazonaws.com',
        }),
      );
      const item = one(r);
      expect(item).toMatchObject({
        event: 'id_token.issue',
        outcome: 'refused',
        reason: 'token_revoked',
        tenant: 'acme',
        principal: 'acme/ci/repo:acme/app',
        trust: 'ci',
      });
      expect(item).not.toHaveProperty('claimed_principal');
    },
  );

  it('records a malformed request that names no tenant under _unknown', async () => {
    const r = await recorded(() => postExchange(gateway.url, {}, { contentType: 'application/json', rawBody: '{}' }));
    expect(one(r)).toMatchObject({ event: 'token.exchange', outcome: 'refused', reason: 'ERR_INVALID_REQUEST', tenant: '_unknown' });
  });

  it('scrubs tokens out of attacker-chosen claims and parameters', async () => {
    const planted = 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.c2ln';
    const r = await recorded(async () =>
      exchange({
        subject_token: await external({ sub: `repo:acme/${planted}`, aud: 'x' }),
        subject_token_type: TOKEN_TYPE.idToken,
        tenant: 'acme',
        audience: planted,
      }),
    );
    const item = one(r);
    expect(item.claimed_subject).toBe('repo:acme/[jwt]');
    expect(JSON.stringify(item)).not.toMatch(JWT);
  });
});

describe('refusal records are bounded per tenant and source', () => {
  const N = REFUSAL_RECORDS_PER_MINUTE;
  // The limiter refills with the clock: frozen, a slow machine cannot refill it mid-flood.
  beforeEach(() => void vi.useFakeTimers({ toFake: ['Date'] }));
  afterEach(() => void vi.useRealTimers());

  it(
    `regression: writes ${N} of a flood of ${N} + 5 forged tokens from one source, carries the 5 ` +
      `suppressed on its next record, and another source is unaffected`,
    async () => {
      const flood = await recorded(async () => {
        for (let i = 0; i < N + 5; i++) expect(await forgedExchange('203.0.113.50')).toBe(400);
      });
      expect(flood.items).toHaveLength(N);
      expect(flood.logged).toHaveLength(N);
      expect(flood.items.every((i) => i.tenant === '_unknown' && i.source_ip === '203.0.113.50' && i.detail === undefined)).toBe(true);

      const other = await recorded(() => forgedExchange('198.51.100.50'));
      expect(one(other)).toMatchObject({ source_ip: '198.51.100.50' });
      expect(one(other)).not.toHaveProperty('detail');

      vi.setSystemTime(Date.now() + 60_000 / N); // one record's worth
      const next = await recorded(async () => {
        for (let i = 0; i < 2; i++) expect(await forgedExchange('203.0.113.50')).toBe(400);
      });
      expect(one(next)).toMatchObject({ source_ip: '203.0.113.50', detail: { suppressed: 5 } });
    },
  );

  it(`writes ${N} refusal records of a flood of Cognito vending refusals from one source`, async () => {
    const ci = (await exchange({ subject_token: await external(), subject_token_type: TOKEN_TYPE.idToken, tenant: 'acme' })).body
      .access_token as string;
    const vend = () =>
      invoke('functions/cognito-identity-token.ts', '203.0.113.51', {
        path: '/v1/aws/cognito-identity-token',
        headers: { authorization: `Bearer ${ci}`, 'content-type': 'application/json' },
        body: JSON.stringify({ identity_pool_id: 'us-east-1:11111111-2222-4333-8444-555555555555' }),
      });
    const flood = await recorded(async () => {
      for (let i = 0; i < N + 3; i++) expect(await vend()).toBe(403);
    });
    expect(flood.items).toHaveLength(N);
    expect(
      flood.items.every((i) => i.event === 'cognito_token.issue' && i.outcome === 'refused' && i.principal === 'acme/ci/repo:acme/app'),
    ).toBe(true);
  });
});

describe('audit records of admin changes', () => {
  it('records trust relationship create, replace and delete, one each', async () => {
    const doc = {
      kind: 'oidc',
      issuer: upstream.issuer,
      audiences: ['fedbroker'],
      conditions: { StringEquals: { sub: 'x' } },
      scopes: ['id-token:issue'],
    };
    const base = '/v1/tenants/acme/trust-relationships';
    const created = await recorded(() => api('POST', base, admin, { ...doc, id: 'audited' }));
    const replaced = await recorded(() => api('PUT', `${base}/audited`, admin, doc, { 'If-Match': '"1"' }));
    const deleted = await recorded(() => api('DELETE', `${base}/audited`, admin, undefined, { 'If-Match': '"2"' }));
    const who = {
      tenant: 'acme',
      trust: 'admin',
      principal: 'acme/admin/admin-a',
      jti: decodeJwt(admin).jti,
      target: 'audited',
      outcome: 'success',
    };
    expect(one(created)).toMatchObject({
      ...who,
      event: 'trust_relationship.create',
      detail: { version: 1 },
      request_id: expect.any(String),
      source_ip: expect.any(String),
    });
    expect(one(replaced)).toMatchObject({ ...who, event: 'trust_relationship.replace', detail: { version: 2 } });
    expect(one(deleted)).toMatchObject({ ...who, event: 'trust_relationship.delete', detail: { version: 2 } });
  });

  it('records identity pool create, replace and delete, one each', async () => {
    const id = cognito.createPool({ developerProvider: 'fedbroker' });
    await tenantAdmin(broker.tableName).allowPool('acme', id);
    const base = '/v1/tenants/acme/cognito-identity-pools';
    const created = await recorded(() => api('POST', base, admin, { identity_pool_id: id }));
    const replaced = await recorded(() =>
      api('PUT', `${base}/${id}`, admin, { identity_pool_id: id, max_duration_seconds: 600 }, { 'If-Match': '"1"' }),
    );
    expect(one(created)).toMatchObject({ event: 'identity_pool.create', target: id, principal: 'acme/admin/admin-a' });
    expect(one(replaced)).toMatchObject({ event: 'identity_pool.replace', target: id });
    // Vending through it is audited too, before the pool goes away.
    const ci = (await exchange({ subject_token: await external(), subject_token_type: TOKEN_TYPE.idToken, tenant: 'acme' })).body
      .access_token as string;
    const vended = await recorded(() => api('POST', '/v1/aws/cognito-identity-token', ci, { identity_pool_id: id }));
    expect(vended.result.status).toBe(200);
    expect(one(vended)).toMatchObject({
      event: 'cognito_token.issue',
      outcome: 'success',
      audience: id,
      principal: 'acme/ci/repo:acme/app',
      detail: { source_jti: decodeJwt(ci).jti },
    });
    const deleted = await recorded(() => api('DELETE', `${base}/${id}`, admin, undefined, { 'If-Match': '"2"' }));
    expect(one(deleted)).toMatchObject({ event: 'identity_pool.delete', target: id });
  });

  it('records a revocation with the revoked jti as its target', async () => {
    const at = (await exchange({ subject_token: await external(), subject_token_type: TOKEN_TYPE.idToken, tenant: 'acme' })).body
      .access_token as string;
    const r = await recorded(() => api('POST', '/v1/tenants/acme/revocations', admin, { token: at }));
    expect(one(r)).toMatchObject({
      event: 'token.revoke',
      outcome: 'success',
      tenant: 'acme',
      principal: 'acme/admin/admin-a',
      target: decodeJwt(at).jti,
      detail: { revoked: true },
    });
  });

  it('records every signing key state change of a rotation, one each, under _system', async () => {
    const [{ rotateKeys }, { runtime }] = await Promise.all([
      broker.load<typeof import('../../lib/keys/rotation.ts')>('lib/keys/rotation.ts'),
      broker.load<typeof import('../../lib/handlers/runtime.ts')>('lib/handlers/runtime.ts'),
    ]);
    const r = await recorded(() => rotateKeys(runtime().rotationDeps, { force: true, actor: 'audit-test' }));
    expect(r.result.events.length).toBeGreaterThan(0);
    expect(r.items).toHaveLength(r.result.events.length);
    expect(r.logged).toHaveLength(r.result.events.length);
    for (const e of r.result.events) {
      expect(r.items).toContainEqual(
        expect.objectContaining({
          event: 'key.state_change',
          tenant: '_system',
          principal: 'audit-test',
          target: e.kid,
          detail: { from: e.from, to: e.to, forced: e.forced },
        }),
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
    const silenced = await startBroker({
      env: { FEDBROKER_LOCAL: 'true', FEDBROKER_AUDIT_TABLE_WRITE: 'subscription', POWERTOOLS_LOG_LEVEL: 'SILENT' },
    });
    const front = await startGateway((m) => silenced.load(m));
    try {
      await tenantAdmin(silenced.tableName).tenant('acme', [
        {
          kind: 'oidc',
          id: 'ci',
          issuer: upstream.issuer,
          audiences: ['fedbroker'],
          conditions: { StringLike: { sub: 'repo:acme/*' } },
          scopes: ['id-token:issue'],
        },
      ]);
      const res = await postExchange(front.url, {
        subject_token: await external(),
        subject_token_type: TOKEN_TYPE.idToken,
        tenant: 'acme',
      });
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ error: 'temporarily_unavailable' });
      expect(res.body).not.toHaveProperty('access_token');
    } finally {
      await front.close();
      await silenced.close();
    }
  });
});

import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry, AuditRecord } from '../../lib/audit/ports.ts';
import { entryId } from '../../lib/audit/trail.ts';
import { DynamoAuditLog } from '../../lib/aws/dynamo-audit-log.ts';
import { Table } from '../../lib/aws/dynamo-table.ts';
import type { Scope } from '../../lib/tenants/tenant.ts';
import { startBroker, type TestBroker } from '../support/broker.ts';
import { startGateway } from '../support/gateway.ts';
import { gatewayClient } from '../support/gateway-client.ts';
import { tenantAdmin, subjectRelationship } from '../support/tenants.ts';
import { startUpstreamIssuer, type UpstreamIssuer } from '../support/upstream-issuer.ts';
import type { JsonBody } from '../support/json-body.ts';

// GET /v1/tenants/{tenant}/audit: what the API returns, how it pages, and whom it refuses.
let broker: TestBroker;
let gateway: Awaited<ReturnType<typeof startGateway>>;
let upstream: UpstreamIssuer;
let auditor: string;
let auditorB: string;
let ci: string;

const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();
// Records spread over four UTC days, written straight through the adapter (real dynalite).
const now = Date.now();
const seeded: Partial<AuditRecord>[] = [
  { time: iso(now - 3 * DAY), principal: 'paged/ci/a' },
  { time: iso(now - 2 * DAY - 60_000), principal: 'paged/ci/b' },
  { time: iso(now - 2 * DAY), principal: 'paged/ci/a' },
  { time: iso(now - DAY), principal: 'paged/ci/b' },
  { time: iso(now - 3_600_000), principal: 'paged/ci/a' },
];

const { tokenFor } = gatewayClient(
  () => gateway.url,
  () => upstream,
);

async function audit(tenant: string, token: string | undefined, query: Record<string, string | number> = {}) {
  const qs = new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)]));
  const res = await fetch(`${gateway.url}/v1/tenants/${tenant}/audit?${qs}`, {
    headers: token ? { Authorization: `Bearer ${token}` } : {},
  });
  const text = await res.text();
  return {
    status: res.status,
    text,
    body: (text ? JSON.parse(text) : {}) as { items: JsonBody[]; next_cursor?: string; error?: string },
  };
}

/** Follows the cursors to the end, one page of `limit` at a time. */
async function allPages(tenant: string, query: Record<string, string | number>) {
  const pages: number[] = [];
  const items: JsonBody[] = [];
  let cursor: string | undefined;
  do {
    const res = await audit(tenant, auditor, { ...query, ...(cursor ? { cursor } : {}) });
    expect(res.status, res.text).toBe(200);
    pages.push(res.body.items.length);
    items.push(...res.body.items);
    cursor = res.body.next_cursor;
  } while (cursor && pages.length < 20);
  return { pages, items };
}

beforeAll(async () => {
  broker = await startBroker({ env: { FEDBROKER_LOCAL: 'true' } });
  gateway = await startGateway((m) => broker.load(m));
  upstream = await startUpstreamIssuer();
  const rel = (id: string, sub: string, scopes: Scope[]) => subjectRelationship(upstream.issuer, id, sub, scopes);
  const t = tenantAdmin(broker.tableName);
  await t.tenant('paged', [rel('auditor', 'auditor', ['audit:read']), rel('ci', 'ci', ['id-token:issue', 'trust:admin'])]);
  await t.tenant('globex', [rel('auditor', 'auditor-b', ['audit:read'])]);
  const log = new DynamoAuditLog(new Table(broker.tableName));
  await log.putAll(
    seeded.map(
      (r) =>
        ({
          event: 'token.exchange',
          outcome: 'success',
          tenant: 'paged',
          ...r,
          id: entryId(r.time!),
          expires_at: Math.floor(now / 1000) + 3600,
        }) as AuditEntry,
    ),
  );
  // Past its expiry, but still in the table: DynamoDB's TTL deletes late, and dynalite never does.
  const lapsed = iso(now - DAY / 2);
  await log.putAll([
    {
      event: 'token.exchange',
      outcome: 'success',
      tenant: 'paged',
      principal: 'paged/ci/lapsed',
      time: lapsed,
      id: entryId(lapsed),
      expires_at: Math.floor(now / 1000) - 60,
    },
  ]);
  // Logged in after seeding: these exchanges add today's records too, for their own principals.
  [auditor, auditorB, ci] = await Promise.all([tokenFor('paged', 'auditor'), tokenFor('globex', 'auditor-b'), tokenFor('paged', 'ci')]);
});
afterAll(async () => {
  await Promise.all([gateway?.close(), upstream?.close()]);
  await broker?.close();
});

const since = iso(now - 4 * DAY);

describe('audit API', () => {
  it('returns the last 24 hours by default, oldest first, with the record fields', async () => {
    const res = await audit('paged', auditor);
    expect(res.status).toBe(200);
    const times = res.body.items.map((i) => i.time as string);
    expect(times).toEqual([...times].sort());
    expect(times.every((t) => Date.parse(t) > now - DAY)).toBe(true);
    const granted = res.body.items.find((i) => i.principal === 'paged/ci/ci');
    expect(granted).toMatchObject({
      id: expect.stringMatching(/#[0-9a-f]{12}$/),
      event: 'token.exchange',
      outcome: 'success',
      tenant: 'paged',
      trust: 'ci',
      jti: decodeJwt(ci).jti,
    });
    expect(granted).not.toHaveProperty('pk');
    expect(granted).not.toHaveProperty('expires_at');
    expect(res.text).not.toMatch(/eyJ[\w-]*\.[\w-]*\./);
  });

  it('pages through several day partitions with an opaque cursor, losing and repeating nothing', async () => {
    const whole = await audit('paged', auditor, { since, limit: 200 });
    expect(whole.body.next_cursor).toBeUndefined();
    expect(whole.body.items.length).toBe(seeded.length + 2); // + the two exchanges into paged
    const { pages, items } = await allPages('paged', { since, limit: 2 });
    expect(pages.slice(0, -1).every((n) => n === 2)).toBe(true);
    expect(items.map((i) => i.id)).toEqual(whole.body.items.map((i) => i.id));
    expect(items.slice(0, seeded.length).map((i) => i.time)).toEqual(seeded.map((r) => r.time));
  });

  it('filters by principal across days and pages', async () => {
    const { items } = await allPages('paged', { since, principal: 'paged/ci/a', limit: 1 });
    expect(items.map((i) => i.time)).toEqual(seeded.filter((r) => r.principal === 'paged/ci/a').map((r) => r.time));
  });

  it('leaves out a record past its expiry that TTL has not deleted yet', async () => {
    const res = await audit('paged', auditor, { since, principal: 'paged/ci/lapsed' });
    expect(res.status, res.text).toBe(200);
    expect(res.body.items).toEqual([]);
  });

  it('honours until as an exclusive bound', async () => {
    const res = await audit('paged', auditor, { since, until: seeded[2]!.time! });
    expect(res.body.items.map((i) => i.time)).toEqual(seeded.slice(0, 2).map((r) => r.time));
  });
});

describe('audit API refuses', () => {
  it.each([
    ['another tenant’s audit trail', 'paged', 'AUDITOR_B', {}, 403, 'insufficient_scope'],
    ['a token without the audit:read scope', 'paged', 'CI', {}, 403, 'insufficient_scope'],
    ['a request without a token', 'paged', 'NONE', {}, 401, 'invalid_token'],
    ['a since that is not ISO 8601', 'paged', 'AUDITOR', { since: 'yesterday' }, 400, 'invalid_request'],
    ['a since after until', 'paged', 'AUDITOR', { since: iso(now), until: iso(now - DAY) }, 400, 'invalid_request'],
    ['a range longer than 31 days', 'paged', 'AUDITOR', { since: iso(now - 32 * DAY) }, 400, 'invalid_request'],
    ['a limit above 200', 'paged', 'AUDITOR', { limit: 201 }, 400, 'invalid_request'],
    ['a limit of 0', 'paged', 'AUDITOR', { limit: 0 }, 400, 'invalid_request'],
    [
      'a cursor it did not issue',
      'paged',
      'AUDITOR',
      { cursor: Buffer.from('{"after":"AUDIT#x"}').toString('base64url') },
      400,
      'invalid_request',
    ],
    ['a principal with control characters', 'paged', 'AUDITOR', { principal: 'a\u0001b' }, 400, 'invalid_request'],
  ] as const)('%s', async (_name, tenant, who, query, status, error) => {
    const token = { AUDITOR: auditor, AUDITOR_B: auditorB, CI: ci, NONE: undefined }[who];
    const res = await audit(tenant, token, query as Record<string, string>);
    expect(res.status, res.text).toBe(status);
    expect(res.body.error).toBe(error);
  });
});

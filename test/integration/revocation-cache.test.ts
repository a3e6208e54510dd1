// The deny list travels with the tenant's cached view: using an access token costs no DynamoDB read
// in a warm container, a revocation holds at once in the container that wrote it and within the
// tenant cache bound everywhere else, and each tenant's list is capped by its key space. Against
// dynalite, with DynamoDB requests counted at the wire by a proxy.
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoRevocationStore } from '../../lib/aws/dynamo-revocation-store.ts';
import { Table } from '../../lib/aws/dynamo-table.ts';
import { DynamoTrustStore } from '../../lib/aws/dynamo-trust-store.ts';
import { isFedbrokerError } from '../../lib/errors.ts';
import { TenantDenyList } from '../../lib/directory/deny-list.ts';
import { TenantDirectory } from '../../lib/directory/directory.ts';
import type { Scope } from '../../lib/tenants/tenant.ts';
import { startBroker, type TestBroker } from '../support/broker.ts';
import { startThrottleProxy, type ThrottleProxy } from '../support/dynamodb-throttle-proxy.ts';
import { postExchange, TOKEN_TYPE } from '../support/exchange-client.ts';
import { startGateway } from '../support/gateway.ts';
import { tenantAdmin, subjectRelationship } from '../support/tenants.ts';
import { startUpstreamIssuer, type UpstreamIssuer } from '../support/upstream-issuer.ts';

let broker: TestBroker;
let proxy: ThrottleProxy;
let gateway: Awaited<ReturnType<typeof startGateway>>;
let upstream: UpstreamIssuer;
/** Talks to dynalite directly, past the proxy, so the test's own reads are not counted. */
let table: Table;
let admin: string;

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const relationship = (id: string, sub: string, scopes: Scope[]) => subjectRelationship(upstream.issuer, id, sub, scopes);

async function accessToken(sub: string): Promise<string> {
  const res = await postExchange(gateway.url, {
    subject_token: await upstream.token({ sub }),
    subject_token_type: TOKEN_TYPE.idToken,
    tenant: 'acme',
  });
  expect(res.status, res.text).toBe(200);
  return res.body.access_token as string;
}
const idToken = (at: string) =>
  postExchange(gateway.url, {
    subject_token: at,
    subject_token_type: TOKEN_TYPE.accessToken,
    requested_token_type: TOKEN_TYPE.idToken,
    audience: 'sts.amazonaws.com',
  });
const revoke = (token: string) =>
  fetch(`${gateway.url}/v1/tenants/acme/revocations`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${admin}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ token }),
  });

/** DynamoDB reads `action` caused, counted at the wire. */
async function readsDuring(action: () => Promise<unknown>): Promise<Record<string, number>> {
  const before = { ...proxy.operations };
  await action();
  const reads = Object.fromEntries(
    ['GetItem', 'Query', 'Scan', 'BatchGetItem'].map((op) => [op, (proxy.operations[op] ?? 0) - (before[op] ?? 0)]),
  );
  return Object.fromEntries(Object.entries(reads).filter(([, n]) => n > 0));
}

const denyItems = async (tenant: string) =>
  (
    await table.doc.send(
      new QueryCommand({
        TableName: table.name,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :r)',
        ExpressionAttributeValues: { ':pk': `TENANT#${tenant}`, ':r': 'REVOKED#' },
      }),
    )
  ).Items ?? [];

beforeAll(async () => {
  // Cache bounds of an hour: nothing in this file may depend on how fast it runs.
  broker = await startBroker({
    env: { FEDBROKER_LOCAL: 'true', FEDBROKER_TENANT_CACHE_SECONDS: '3600', FEDBROKER_KEY_CACHE_SECONDS: '3600' },
  });
  proxy = await startThrottleProxy(broker.dynamodb.endpoint);
  broker.coldStart({ AWS_ENDPOINT_URL_DYNAMODB: proxy.url });
  [gateway, upstream] = await Promise.all([startGateway((m) => broker.load(m)), startUpstreamIssuer()]);
  table = new Table(broker.tableName, new DynamoDBClient({ region: 'us-east-1', endpoint: broker.dynamodb.endpoint, credentials }));
  await tenantAdmin(broker.tableName).tenant('acme', [
    relationship('admin', 'admin', ['trust:admin']),
    relationship('ci', 'ci', ['id-token:issue']),
  ]);
  admin = await accessToken('admin');
});
afterAll(async () => {
  await Promise.all([gateway?.close(), upstream?.close(), proxy?.close()]);
  await broker?.close();
});

describe('the access-token path', () => {
  it('issues ID tokens from a warm container with 0 DynamoDB reads, the deny-list check included', async () => {
    const at = await accessToken('ci');
    expect((await idToken(at)).status).toBe(200); // warm: keys and tenant cached
    const reads = await readsDuring(async () => {
      for (let i = 0; i < 5; i++) expect((await idToken(at)).status).toBe(200);
    });
    expect(reads).toEqual({});
  });

  it('refuses a revoked token on its next use in the container that revoked it, at the cost of one tenant read', async () => {
    const at = await accessToken('ci');
    expect((await idToken(at)).status).toBe(200);
    expect((await revoke(at)).status).toBe(200);
    // The tenant cache bound is an hour here: only dropping the view after the write explains this.
    const reads = await readsDuring(async () => {
      const refused = await idToken(at);
      expect(refused.status).toBe(400);
      expect(refused.body.error).toBe('invalid_request');
    });
    expect(reads).toEqual({ Query: 1 });
    expect(await readsDuring(async () => expect((await idToken(at)).status).toBe(400))).toEqual({});
  });
});

describe('another warm container', () => {
  it('refuses the revoked token once the tenant cache bound has passed, and not before', async () => {
    let now = Date.now();
    const clock = { now: () => now };
    const container = () => {
      const directory = new TenantDirectory({
        store: new DynamoTrustStore(table),
        clock,
        ttlSeconds: 15,
        context: { cognitoIssuer: 'https://cognito-identity.amazonaws.com', developerProvider: 'fedbroker' },
      });
      return new TenantDenyList({ directory, writer: new DynamoRevocationStore(table) });
    };
    const [here, there] = [container(), container()];
    const at = () => Math.floor(now / 1000);
    const entry = { jti: randomUUID(), tenant: 'acme', exp: at() + 600 };
    expect(await there.isRevoked(entry.jti, 'acme', at())).toBe(false);
    expect(await here.revoke(entry, at())).toBe('revoked');
    expect(await here.isRevoked(entry.jti, 'acme', at())).toBe(true);
    now += 14_999;
    expect(await there.isRevoked(entry.jti, 'acme', at())).toBe(false);
    now += 1;
    expect(await there.isRevoked(entry.jti, 'acme', at())).toBe(true);
  });
});

describe('DynamoRevocationStore', () => {
  const NOW = Math.floor(Date.now() / 1000);
  let n = 0;
  /** A fresh tenant partition per test (the store needs no tenant item). */
  const freshTenant = () => `cap-${++n}-${randomUUID().slice(0, 8)}`;
  const entry = (tenant: string, exp = NOW + 600) => ({ jti: randomUUID(), tenant, exp });

  it('refuses a write beyond the cap with full, and keeps answering revoked for entries it holds', async () => {
    const store = new DynamoRevocationStore(table, 3);
    const tenant = freshTenant();
    const first = entry(tenant);
    for (const e of [first, entry(tenant), entry(tenant)]) expect(await store.write(e, NOW)).toBe('revoked');
    expect(await store.write(entry(tenant), NOW)).toBe('full');
    expect(await store.write(first, NOW)).toBe('revoked');
    expect((await denyItems(tenant)).map((i) => i.sk).sort()).toEqual(['REVOKED#0', 'REVOKED#1', 'REVOKED#2']);
  });

  it('does not count expired entries against the cap: it writes over them', async () => {
    const store = new DynamoRevocationStore(table, 2);
    const tenant = freshTenant();
    await store.write(entry(tenant, NOW - 10), NOW - 20); // live when written, expired now
    await store.write(entry(tenant), NOW);
    const fresh = entry(tenant);
    expect(await store.write(fresh, NOW)).toBe('revoked');
    const items = await denyItems(tenant);
    expect(items).toHaveLength(2);
    expect(items.map((i) => i.jti)).toContain(fresh.jti);
  });

  it('holds the cap under concurrent writers', async () => {
    const store = new DynamoRevocationStore(table, 3);
    const tenant = freshTenant();
    const outcomes = await Promise.all(Array.from({ length: 12 }, () => store.write(entry(tenant), NOW)));
    expect(outcomes.filter((o) => o === 'revoked')).toHaveLength(3);
    expect(outcomes.filter((o) => o === 'full')).toHaveLength(9);
    expect(await denyItems(tenant)).toHaveLength(3);
  });

  it('only ever extends an entry, in place', async () => {
    const store = new DynamoRevocationStore(table);
    const tenant = freshTenant();
    const e = entry(tenant, NOW + 100);
    await store.write(e, NOW);
    await store.write({ ...e, exp: NOW + 50 }, NOW);
    expect((await denyItems(tenant)).map((i) => i.expires_at)).toEqual([NOW + 100]);
    await store.write({ ...e, exp: NOW + 200 }, NOW);
    expect((await denyItems(tenant)).map((i) => i.expires_at)).toEqual([NOW + 200]);
  });

  /** A store whose slot claims lose to a rival writer that takes the same slot first, `losses` times. */
  function raced(tenant: string, losses: number, cap = 1000) {
    const client = new DynamoDBClient({ region: 'us-east-1', endpoint: broker.dynamodb.endpoint, credentials });
    let left = losses;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const sk = (args.input as { Item?: { sk?: unknown } }).Item?.sk;
        if (context.commandName === 'PutItemCommand' && typeof sk === 'string' && sk.startsWith('REVOKED#') && left > 0) {
          left--;
          await table.doc.send(
            new PutCommand({
              TableName: table.name,
              Item: { pk: `TENANT#${tenant}`, sk, jti: randomUUID(), tenant, expires_at: NOW + 600 },
            }),
          );
        }
        return next(args);
      },
      { step: 'serialize', priority: 'high' },
    );
    return new DynamoRevocationStore(new Table(table.name, client), cap);
  }

  it('takes another slot after losing one to a concurrent writer', async () => {
    const tenant = freshTenant();
    const e = entry(tenant);
    expect(await raced(tenant, 2).write(e, NOW)).toBe('revoked');
    const items = await denyItems(tenant);
    expect(items).toHaveLength(3);
    expect(items.map((i) => i.jti)).toContain(e.jti);
  });

  it('answers 503 ERR_SERVICE_UNAVAILABLE when it keeps losing races, so the caller retries', async () => {
    const tenant = freshTenant();
    const failure = await raced(tenant, Infinity)
      .write(entry(tenant), NOW)
      .catch((e: unknown) => e);
    expect(isFedbrokerError(failure) && [failure.code, failure.status]).toEqual(['ERR_SERVICE_UNAVAILABLE', 503]);
  });

  it('reports full, not 503, when the last free slot goes to a concurrent writer', async () => {
    const tenant = freshTenant();
    expect(await raced(tenant, 1, 1).write(entry(tenant), NOW)).toBe('full');
  });
});

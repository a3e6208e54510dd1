// The auditIngest function: what a CloudWatch Logs subscription delivers (gzipped, base64) becomes
// table items, once each, whatever the delivery repeats, and a table that does not take the items
// fails the delivery so Lambda retries it.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { gzipSync } from 'node:zlib';
import type { AuditEntry } from '../../lib/audit/ports.ts';
import { entryId } from '../../lib/audit/trail.ts';
import { DynamoAuditLog } from '../../lib/aws/dynamo-audit-log.ts';
import { Table } from '../../lib/aws/dynamo-table.ts';
import { ServiceUnavailable } from '../../lib/errors.ts';
import { startBroker, type TestBroker } from '../support/broker.ts';
import { startThrottleProxy, type ThrottleProxy } from '../support/dynamodb-throttle-proxy.ts';
import { logsSubscriptionEvent } from '../support/events.ts';

let broker: TestBroker;
let proxy: ThrottleProxy;
let direct: Table;
let ingest: typeof import('../../functions/audit-ingest.ts').handler;
let tenantSeq = 0;
let tenant: string;

const time = (offsetMs = 0) => new Date(Date.now() + offsetMs).toISOString();

function entry(overrides: Partial<AuditEntry> = {}): AuditEntry {
  const t = overrides.time ?? time();
  return {
    time: t,
    id: entryId(t),
    event: 'token.exchange',
    outcome: 'success',
    tenant,
    principal: `${tenant}/ci/x`,
    expires_at: Math.floor(Date.now() / 1000) + 3600,
    ...overrides,
  };
}

/** A log line as the Powertools logger writes it: its own fields around the entry. */
const line = (e: object) => JSON.stringify({ level: 'INFO', message: 'audit', timestamp: time(), service: 'fedbroker', audit: true, ...e });

async function stored(of = tenant): Promise<Record<string, unknown>[]> {
  const out = await direct.doc.send(
    new ScanCommand({
      TableName: direct.name,
      FilterExpression: 'begins_with(pk, :p)',
      ExpressionAttributeValues: { ':p': `AUDIT#${of}#` },
    }),
  );
  return out.Items ?? [];
}

beforeAll(async () => {
  broker = await startBroker();
  proxy = await startThrottleProxy(broker.dynamodb.endpoint);
  broker.coldStart({ AWS_ENDPOINT_URL_DYNAMODB: proxy.url });
  ({ handler: ingest } = await broker.load<typeof import('../../functions/audit-ingest.ts')>('functions/audit-ingest.ts'));
  direct = new Table(
    broker.tableName,
    new DynamoDBClient({
      region: 'us-east-1',
      endpoint: broker.dynamodb.endpoint,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    }),
  );
});
afterAll(async () => {
  proxy.stop();
  await proxy.close();
  await broker.close();
});
beforeEach(() => {
  proxy.stop();
  tenant = `ingest-${++tenantSeq}`;
});

describe('auditIngest', () => {
  it('stores each entry under its day partition with its id as sort key, without the logger fields', async () => {
    const e = entry({ scopes: ['id-token:issue'], detail: { source_jti: 'j1' }, request_id: 'r1' });
    const refusal = entry({
      outcome: 'refused',
      principal: undefined,
      claimed_tenant: 'acme',
      claimed_principal: 'acme/ci/x',
      claimed_trust: 'ci',
      claimed_issuer: 'https://i',
      claimed_subject: 's',
      time: time(1),
    });
    await expect(ingest(logsSubscriptionEvent([line(e), line(refusal)]))).resolves.toEqual({ stored: 2, dropped: 0 });
    const item = ({ id, ...record }: AuditEntry) =>
      JSON.parse(JSON.stringify({ ...record, pk: `AUDIT#${tenant}#${record.time.slice(0, 10)}`, sk: id })) as unknown;
    expect(await stored()).toHaveLength(2);
    expect(await stored()).toEqual(expect.arrayContaining([item(e), item(refusal)]));
  });

  it('stores a redelivered batch once: puts are idempotent by entry id', async () => {
    const event = logsSubscriptionEvent([line(entry()), line(entry({ time: time(1) }))]);
    await ingest(event);
    await ingest(event);
    expect(await stored()).toHaveLength(2);
  });

  it('stores deliveries larger than one BatchWriteItem call (25 items)', async () => {
    await expect(ingest(logsSubscriptionEvent(Array.from({ length: 60 }, (_, i) => line(entry({ time: time(i) })))))).resolves.toEqual({
      stored: 60,
      dropped: 0,
    });
    expect(await stored()).toHaveLength(60);
  });

  it('drops a line whose audit JSON does not start the message (another writer printing it)', async () => {
    await expect(ingest(logsSubscriptionEvent([`2025-01-01T00:00:00.000Z\tabc\tINFO\t${line(entry())}`]))).resolves.toEqual({
      stored: 0,
      dropped: 1,
    });
    expect(await stored()).toHaveLength(0);
  });

  it('answers a CONTROL_MESSAGE (the destination check) without storing anything', async () => {
    const data = gzipSync(
      JSON.stringify({
        messageType: 'CONTROL_MESSAGE',
        logEvents: [{ id: '1', timestamp: 0, message: 'CWL CONTROL MESSAGE: Checking health of destination Lambda.' }],
      }),
    ).toString('base64');
    await expect(ingest({ awslogs: { data } })).resolves.toEqual({ stored: 0, dropped: 0 });
  });

  it('rejects an event that is not a subscription delivery', async () => {
    await expect(ingest({} as never)).rejects.toThrow(TypeError);
  });

  it('retries items DynamoDB leaves unprocessed, then stores them', async () => {
    proxy.leaveUnprocessed(2);
    await expect(ingest(logsSubscriptionEvent([line(entry()), line(entry({ time: time(1) }))]))).resolves.toEqual({
      stored: 2,
      dropped: 0,
    });
    expect(await stored()).toHaveLength(2);
  });

  it('fails with ERR_SERVICE_UNAVAILABLE when items stay unprocessed, so the delivery is retried', async () => {
    proxy.leaveUnprocessed(Infinity);
    const log = new DynamoAuditLog(
      new Table(
        broker.tableName,
        new DynamoDBClient({ region: 'us-east-1', endpoint: proxy.url, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }),
      ),
      async () => undefined,
    );
    const err = await log.putAll([entry()]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServiceUnavailable);
    expect((err as ServiceUnavailable).code).toBe('ERR_SERVICE_UNAVAILABLE');
    expect(await stored()).toHaveLength(0);
  });

  it("writes every other tenant's records when one tenant's partition stays throttled, then fails so the delivery is retried", async () => {
    const hot = tenant;
    const bystander = `${tenant}-bystander`;
    // The hot tenant's entries first: written as one stream, they would fill the first batches,
    // and a failure there would keep the bystander's out of the table.
    const event = logsSubscriptionEvent([
      ...Array.from({ length: 30 }, (_, i) => line(entry({ time: time(i) }))),
      ...Array.from({ length: 30 }, (_, i) => line(entry({ tenant: bystander, principal: `${bystander}/ci/x`, time: time(i) }))),
    ]);
    proxy.hotPartition(`AUDIT#${hot}#`);
    const failure = await ingest(event).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(await stored(bystander)).toHaveLength(30);
    expect(await stored(hot)).toHaveLength(0);
    expect(failure).toMatchObject({ code: 'ERR_SERVICE_UNAVAILABLE', tenants: [hot], entries: 30 });
    // Redelivered once the partition cools down: the hot tenant's records arrive, nothing twice.
    proxy.stop();
    await expect(ingest(event)).resolves.toEqual({ stored: 60, dropped: 0 });
    expect(await stored(hot)).toHaveLength(30);
    expect(await stored(bystander)).toHaveLength(30);
  });

  it('rejects a delivery while DynamoDB throttles, and stores it whole and once when redelivered', async () => {
    const event = logsSubscriptionEvent(Array.from({ length: 30 }, (_, i) => line(entry({ time: time(i) }))));
    proxy.throttleNext(Infinity, 'BatchWriteItem');
    await expect(ingest(event)).rejects.toMatchObject({ code: 'ERR_SERVICE_UNAVAILABLE' });
    proxy.stop();
    await ingest(event);
    expect(await stored()).toHaveLength(30);
  });
});

describe('auditIngest drops log lines that are not audit entries', () => {
  const cases: [string, () => string][] = [
    ['not JSON', () => 'audit: true but no JSON here'],
    ['JSON that is not an audit line', () => JSON.stringify({ level: 'INFO', message: 'request refused', audit: false })],
    ['an entry without an id', () => line({ ...entry(), id: undefined })],
    ['an id of another time', () => line(entry({ id: `${time(-60_000)}#0123456789ab` }))],
    ['an id with a malformed suffix', () => line({ ...entry(), id: `${time()}#XYZ` })],
    ['a time that is not ISO 8601 with milliseconds', () => line({ ...entry(), time: 'yesterday' })],
    ['a tenant id that no tenant can have', () => line(entry({ tenant: 'AUDIT#other' }))],
    ['an unknown event', () => line({ ...entry(), event: 'token.forge' })],
    ['an unknown outcome', () => line({ ...entry(), outcome: 'maybe' })],
    ['no expiry', () => line({ ...entry(), expires_at: undefined })],
    ['a text field that is not text', () => line({ ...entry(), principal: { nested: true } })],
    ['an oversized text field', () => line(entry({ principal: 'x'.repeat(257) }))],
    ['a claimed field that is not text', () => line({ ...entry(), claimed_principal: ['acme/admin/x'] })],
    ['an oversized claimed field', () => line(entry({ outcome: 'refused', claimed_subject: 'x'.repeat(257) }))],
    ['scopes that are not a list of strings', () => line({ ...entry(), scopes: 'id-token:issue' })],
    ['detail that nests objects', () => line({ ...entry(), detail: { deep: { x: 1 } } })],
  ];
  it.each(cases)('%s', async (_name, make) => {
    await expect(ingest(logsSubscriptionEvent([make(), line(entry())]))).resolves.toEqual({ stored: 1, dropped: 1 });
    expect(await stored()).toHaveLength(1);
  });
});

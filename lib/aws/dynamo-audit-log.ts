import { randomBytes } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { AuditQuery, AuditReader, AuditRecord, AuditSink, StoredAuditRecord } from '../audit/ports.ts';
import type { Table } from './dynamo-table.ts';

/**
 * Audit lines are not diagnostics: a log level raised to WARN to cut noise must not drop them,
 * so they have their own logger at INFO. Only SILENT (the tests, the CLI) silences them too.
 */
const auditLogger = new Logger({ serviceName: 'fedbroker', logLevel: process.env.POWERTOOLS_LOG_LEVEL === 'SILENT' ? 'SILENT' : 'INFO' });

/** Writes the record as one JSON log line, `audit: true`, so log queries can select the trail. */
export function logAuditLine(record: AuditRecord): void {
  auditLogger.info('audit', { audit: true, ...record });
}

/**
 * Day partitions keep every query bounded without a secondary index: a tenant's records of one
 * UTC day share a partition, sorted by time (`<ISO time>#<random>` is unique and sorts by time).
 */
const partition = (tenant: string, day: string) => `AUDIT#${tenant}#${day}`;

/** Pages read per query call before answering with a cursor (bounds the work of a filtered query). */
const MAX_PAGES = 20;
const PAGE_SIZE = 200;

function nextDay(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00.000Z`) + 86_400_000).toISOString().slice(0, 10);
}

function toRecord(item: Record<string, unknown>): StoredAuditRecord {
  const { pk: _pk, sk, expires_at: _exp, ...rest } = item;
  return { id: String(sk), ...(rest as unknown as AuditRecord) };
}

/** The audit trail in the single table (`AUDIT#<tenant>#<yyyy-mm-dd> / <ISO time>#<random>`, TTL `expires_at`) and the logs. */
export class DynamoAuditLog implements AuditSink, AuditReader {
  readonly #table: Table;
  readonly #log: (record: AuditRecord) => void;

  constructor(table: Table, log: (record: AuditRecord) => void = logAuditLine) {
    this.#table = table;
    this.#log = log;
  }

  async write(record: AuditRecord, expiresAt: number): Promise<void> {
    // The log line first: when the table write fails, the record still exists in the logs.
    this.#log(record);
    const t = this.#table;
    const sk = `${record.time}#${randomBytes(6).toString('hex')}`;
    await t.run(() =>
      t.doc.send(new PutCommand({ TableName: t.name, Item: { ...record, pk: partition(record.tenant, record.time.slice(0, 10)), sk, expires_at: expiresAt } })),
    );
  }

  async query(tenant: string, q: AuditQuery): Promise<{ items: StoredAuditRecord[]; last?: string }> {
    const t = this.#table;
    const items: StoredAuditRecord[] = [];
    // Resume strictly after the cursor; a cursor outside [since, until) is clamped to the range.
    const after = q.after !== undefined && q.after >= q.since ? q.after : undefined;
    if (after !== undefined && after >= q.until) return { items };
    const lastDay = new Date(Date.parse(q.until) - 1).toISOString().slice(0, 10);
    let pages = 0;
    for (let day = (after ?? q.since).slice(0, 10); day <= lastDay; day = nextDay(day)) {
      const pk = partition(tenant, day);
      let start: Record<string, unknown> | undefined = after !== undefined && after.startsWith(day) ? { pk, sk: after } : undefined;
      do {
        if (start !== undefined && pages >= MAX_PAGES) return { items, last: String(start.sk) };
        pages += 1;
        const page = await t.run(() =>
          t.doc.send(
            new QueryCommand({
              TableName: t.name,
              // `sk` is `<time>#…`, so BETWEEN since AND until selects since ≤ time < until.
              KeyConditionExpression: 'pk = :pk AND sk BETWEEN :since AND :until',
              ...(q.principal !== undefined ? { FilterExpression: '#p = :p', ExpressionAttributeNames: { '#p': 'principal' } } : {}),
              ExpressionAttributeValues: { ':pk': pk, ':since': q.since, ':until': q.until, ...(q.principal !== undefined ? { ':p': q.principal } : {}) },
              // Without a filter every item read is returned, so read no more than still fits.
              Limit: q.principal !== undefined ? PAGE_SIZE : q.limit - items.length,
              ExclusiveStartKey: start,
              ConsistentRead: true,
            }),
          ),
        );
        for (const item of page.Items ?? []) {
          items.push(toRecord(item));
          if (items.length >= q.limit) return { items, last: String(item.sk) };
        }
        start = page.LastEvaluatedKey;
      } while (start);
    }
    return { items };
  }
}

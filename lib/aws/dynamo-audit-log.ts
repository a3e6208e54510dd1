import { BatchWriteCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { AuditEntry, AuditQuery, AuditReader, AuditRecord, AuditTableWriter, StoredAuditRecord } from '../audit/ports.ts';
import { ServiceUnavailable } from '../errors.ts';
import type { Table } from './dynamo-table.ts';

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

/** BatchWriteItem takes at most 25 put requests per call (DynamoDB API reference, BatchWriteItem). */
const BATCH = 25;
/** Rounds of retrying UnprocessedItems (throttled items) before the batch is failed back to the caller. */
const UNPROCESSED_ROUNDS = 5;

/** The table item of an entry: the record under its day partition, sorted by its id. */
function auditItem(entry: AuditEntry): Record<string, unknown> {
  const { id, ...record } = entry;
  return { ...record, pk: partition(entry.tenant, entry.time.slice(0, 10)), sk: id };
}

/** The audit trail in the single table: `AUDIT#<tenant>#<yyyy-mm-dd> / <ISO time>#<random>`, TTL `expires_at`. */
export class DynamoAuditLog implements AuditTableWriter, AuditReader {
  readonly #table: Table;
  readonly #sleep: (ms: number) => Promise<void>;

  constructor(table: Table, sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms))) {
    this.#table = table;
    this.#sleep = sleep;
  }

  /**
   * Puts every entry, 25 per BatchWriteItem. Items DynamoDB returns as unprocessed (throttling)
   * are retried with exponential backoff, as the BatchWriteItem reference asks; still unprocessed
   * after that, the call fails with 503 so the whole batch is redelivered. Puts are idempotent
   * (the key is the entry id), so redelivery never duplicates a record.
   */
  async putAll(entries: readonly AuditEntry[]): Promise<void> {
    const t = this.#table;
    for (let i = 0; i < entries.length; i += BATCH) {
      let requests = entries.slice(i, i + BATCH).map((e) => ({ PutRequest: { Item: auditItem(e) } }));
      for (let round = 0; requests.length > 0; round++) {
        if (round === UNPROCESSED_ROUNDS) throw new ServiceUnavailable('DynamoDB left audit records unprocessed; retry later', 1);
        if (round > 0) await this.#sleep(50 * 2 ** round);
        const out = await t.run(() => t.doc.send(new BatchWriteCommand({ RequestItems: { [t.name]: requests } })));
        requests = (out.UnprocessedItems?.[t.name] ?? []) as typeof requests;
      }
    }
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
      let start: Record<string, unknown> | undefined = after?.startsWith(day) ? { pk, sk: after } : undefined;
      do {
        if (start !== undefined && pages >= MAX_PAGES) return { items, last: String(start.sk) };
        pages += 1;
        const page = await t.run(() =>
          t.doc.send(
            new QueryCommand({
              TableName: t.name,
              // `sk` is `<time>#…`, so BETWEEN since AND until selects since ≤ time < until.
              KeyConditionExpression: 'pk = :pk AND sk BETWEEN :since AND :until',
              // The verified principal only: a refusal's unverified claim is `claimed_principal`.
              ...(q.principal !== undefined ? { FilterExpression: '#p = :p', ExpressionAttributeNames: { '#p': 'principal' } } : {}),
              ExpressionAttributeValues: {
                ':pk': pk,
                ':since': q.since,
                ':until': q.until,
                ...(q.principal !== undefined ? { ':p': q.principal } : {}),
              },
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

import { BatchWriteCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { pagedAuditQuery } from '../audit/paged-query.ts';
import type { AuditEntry, AuditQuery, AuditReader, AuditTableWriter, StoredAuditRecord } from '../audit/ports.ts';
import { systemClock, type Clock } from '../clock.ts';
import { ServiceUnavailable } from '../errors.ts';
import type { Table } from './dynamo-table.ts';

/**
 * Day partitions keep every query bounded without a secondary index: a tenant's records of one
 * UTC day share a partition, sorted by time (`<ISO time>#<random>` is unique and sorts by time).
 */
const partition = (tenant: string, day: string) => `AUDIT#${tenant}#${day}`;

/** The entry an item holds: its id is the sort key; the partition key is not part of it. */
function toEntry(item: Record<string, unknown>): AuditEntry {
  const { pk: _pk, sk, ...rest } = item;
  return { id: String(sk), ...(rest as unknown as Omit<AuditEntry, 'id'>) };
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
  readonly #clock: Clock;

  constructor(
    table: Table,
    sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
    /** Reads skip entries past their `expires_at` by this clock (TTL deletes them late). */
    clock: Clock = systemClock,
  ) {
    this.#table = table;
    this.#sleep = sleep;
    this.#clock = clock;
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

  /** See `pagedAuditQuery` (lib/audit/paged-query.ts); this reads its pages with Query. */
  query(tenant: string, q: AuditQuery): Promise<{ items: StoredAuditRecord[]; last?: string }> {
    const t = this.#table;
    return pagedAuditQuery(q, this.#clock.now(), async ({ day, since, until, start, limit, principal }) => {
      const pk = partition(tenant, day);
      const page = await t.run(() =>
        t.doc.send(
          new QueryCommand({
            TableName: t.name,
            // `sk` is `<time>#…`, so BETWEEN since AND until selects since ≤ time < until.
            KeyConditionExpression: 'pk = :pk AND sk BETWEEN :since AND :until',
            // The verified principal only: a refusal's unverified claim is `claimed_principal`.
            ...(principal !== undefined ? { FilterExpression: '#p = :p', ExpressionAttributeNames: { '#p': 'principal' } } : {}),
            ExpressionAttributeValues: {
              ':pk': pk,
              ':since': since,
              ':until': until,
              ...(principal !== undefined ? { ':p': principal } : {}),
            },
            Limit: limit,
            ExclusiveStartKey: start !== undefined ? { pk, sk: start } : undefined,
            ConsistentRead: true,
          }),
        ),
      );
      const lastKey = page.LastEvaluatedKey?.sk;
      return { entries: (page.Items ?? []).map(toEntry), ...(lastKey !== undefined ? { lastKey: String(lastKey) } : {}) };
    });
  }
}

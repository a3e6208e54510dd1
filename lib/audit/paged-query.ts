import type { AuditEntry, AuditQuery, AuditRecord, StoredAuditRecord } from './ports.ts';

// How an audit query walks the stored copy, shared by every store (lib/aws/dynamo-audit-log.ts,
// lib/local/file-audit-log.ts): the day partitions in order, a page at a time, with the same
// cursor clamping, filters and page bound. A store only reads pages; what a caller sees (items,
// `last`) then comes from this one loop, so the stores cannot drift apart.

/** Pages read per query call before answering with a cursor (bounds the work of a filtered query). */
const MAX_PAGES = 20;
/** Items read per page when a filter may drop some of them. */
const PAGE_SIZE = 200;

/**
 * One page of a day partition, as DynamoDB's Query reads it: entries with `since ≤ id ≤ until`
 * (ids are `<time>#…`, so that is since ≤ time < until), strictly after `start`, in id order, at
 * most `limit` read; only those whose verified `principal` is `principal` are returned when it is
 * set. `lastKey` is the id of the last entry read when `limit` entries were read (DynamoDB's
 * LastEvaluatedKey: there may be more).
 */
export type ReadAuditPage = (page: {
  day: string;
  since: string;
  until: string;
  start: string | undefined;
  limit: number;
  principal: string | undefined;
}) => Promise<{ entries: AuditEntry[]; lastKey?: string }>;

function nextDay(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00.000Z`) + 86_400_000).toISOString().slice(0, 10);
}

/** The record as the audit API returns it: its id, without the copy's expiry. */
function toRecord(entry: AuditEntry): StoredAuditRecord {
  const { id, expires_at: _exp, ...rest } = entry;
  return { id, ...(rest as AuditRecord) };
}

/**
 * An entry past its `expires_at` (epoch seconds) is not returned: DynamoDB's TTL deletes expired
 * items late (often days), and dynalite and the local files never do, so reads check it
 * themselves, as the other `expires_at` readers of the table do (`expires_at < :now` is lapsed).
 */
function expired(entry: AuditEntry, nowSeconds: number): boolean {
  return typeof entry.expires_at === 'number' && entry.expires_at < nowSeconds;
}

/** Records of one tenant's partitions (`readPage`) in time order; `last` is set when there may be more. */
export async function pagedAuditQuery(
  q: AuditQuery,
  nowMs: number,
  readPage: ReadAuditPage,
): Promise<{ items: StoredAuditRecord[]; last?: string }> {
  const items: StoredAuditRecord[] = [];
  const nowSeconds = Math.floor(nowMs / 1000);
  // Resume strictly after the cursor; a cursor outside [since, until) is clamped to the range.
  const after = q.after !== undefined && q.after >= q.since ? q.after : undefined;
  if (after !== undefined && after >= q.until) return { items };
  const lastDay = new Date(Date.parse(q.until) - 1).toISOString().slice(0, 10);
  let pages = 0;
  for (let day = (after ?? q.since).slice(0, 10); day <= lastDay; day = nextDay(day)) {
    let start = after?.startsWith(day) ? after : undefined;
    do {
      if (start !== undefined && pages >= MAX_PAGES) return { items, last: start };
      pages += 1;
      const page = await readPage({
        day,
        since: q.since,
        until: q.until,
        start,
        // Without a filter every entry read is returned, so read no more than still fits.
        limit: q.principal !== undefined ? PAGE_SIZE : q.limit - items.length,
        principal: q.principal,
      });
      for (const entry of page.entries) {
        if (expired(entry, nowSeconds)) continue;
        items.push(toRecord(entry));
        if (items.length >= q.limit) return { items, last: entry.id };
      }
      start = page.lastKey;
    } while (start);
  }
  return { items };
}

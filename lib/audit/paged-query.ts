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

const DAY_MS = 86_400_000;
/** Day partitions one call may walk: the API caps a window at 31 days (lib/audit/query.ts), so 32 with the partial ones. */
const MAX_DAYS = 32;
/** A partition day as records are written: ids always start with a four-digit year. */
const DAY = /^\d{4}-\d{2}-\d{2}$/;

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
  // Days are walked by the clock, not by their text: a window at the edge of the four-digit years
  // (0000 with an offset, 9999) has days whose text (`-000001-12-31`, `+010000-01-01`) does not sort
  // as time does, and no record lives in them, so they are skipped.
  const lastMs = Date.parse(q.until) - 1;
  const from = after !== undefined ? after.slice(0, after.indexOf('#')) : q.since;
  const days: string[] = [];
  for (let i = 0, dayMs = Math.floor(Date.parse(from) / DAY_MS) * DAY_MS; i < MAX_DAYS && dayMs <= lastMs; i++, dayMs += DAY_MS) {
    const day = new Date(dayMs).toISOString().slice(0, 10);
    if (DAY.test(day)) days.push(day);
  }
  // Each day's first page is read while the day before is consumed (one day ahead): the default
  // window (the last 24 h) spans two partitions, and reading them one after the other doubled the
  // latency of most queries. The read-ahead may read up to one page that the answer does not need
  // (when the day before fills it); its limit is the whole query's, as the entries already taken
  // are not known when it starts, and what is returned is the same as reading in order.
  const firstPage = (day: string) => {
    const read = readPage({
      day,
      since: q.since,
      until: q.until,
      start: after?.startsWith(day) ? after : undefined,
      limit: q.principal !== undefined ? PAGE_SIZE : q.limit,
      principal: q.principal,
    });
    // Awaited when its day comes; a read-ahead left unawaited by an early answer must not surface
    // as an unhandled rejection.
    read.catch(() => undefined);
    return read;
  };
  let pages = 0;
  let current = days.length ? firstPage(days[0]!) : undefined;
  for (let d = 0; d < days.length && current; d++) {
    const day = days[d]!;
    const next = d + 1 < days.length ? firstPage(days[d + 1]!) : undefined;
    let page = await current;
    current = next;
    pages += 1;
    for (;;) {
      for (const entry of page.entries) {
        if (expired(entry, nowSeconds)) continue;
        items.push(toRecord(entry));
        if (items.length >= q.limit) return { items, last: entry.id };
      }
      const start = page.lastKey;
      if (start === undefined) break;
      if (pages >= MAX_PAGES) return { items, last: start };
      pages += 1;
      page = await readPage({
        day,
        since: q.since,
        until: q.until,
        start,
        // Without a filter every entry read is returned, so read no more than still fits.
        limit: q.principal !== undefined ? PAGE_SIZE : q.limit - items.length,
        principal: q.principal,
      });
    }
  }
  return { items };
}

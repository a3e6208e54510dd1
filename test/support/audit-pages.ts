// An audit store's page reader over entries in memory, reading as DynamoDB's Query does (the
// page limit counts items read before the principal filter; `lastKey` when the limit was reached):
// what tests of the shared query loop (lib/audit/paged-query.ts) read through.
import type { AuditEntry } from '../../lib/audit/ports.ts';
import type { ReadAuditPage } from '../../lib/audit/paged-query.ts';

/** `delayMs` (optional) makes each read wait a random time below it, so reads overlap in any order. */
export function memoryAuditPages(entries: readonly AuditEntry[], options: { delayMs?: number } = {}) {
  let reads = 0;
  const readPage: ReadAuditPage = async ({ day, since, until, start, limit, principal }) => {
    reads += 1;
    if (options.delayMs) await new Promise((resolve) => setTimeout(resolve, Math.random() * (options.delayMs ?? 0)));
    const inDay = entries
      .filter((e) => e.id.startsWith(day) && e.id >= since && e.id <= until && (start === undefined || e.id > start))
      .sort((a, b) => (a.id < b.id ? -1 : 1));
    const read = inDay.slice(0, limit);
    return {
      entries: principal === undefined ? read : read.filter((e) => e.principal === principal),
      ...(read.length === limit && limit > 0 ? { lastKey: read[read.length - 1]!.id } : {}),
    };
  };
  return { readPage, reads: () => reads };
}

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pagedAuditQuery } from '../../lib/audit/paged-query.ts';
import { parseAuditQuery } from '../../lib/audit/query.ts';
import { FileAuditLog } from '../../lib/local/file-audit-log.ts';

// Red team: the audit API accepts any 4-digit year (lib/audit/query.ts ISO). For a window ending on
// 9999-12-31, nextDay() yields "+010000-01-02…".slice(0,10) = "+010000-01", which sorts BEFORE
// "9999-12-31" ('+' < '9'), so the day loop of lib/audit/paged-query.ts never ends:
// nextDay("+010000-01") = "+010000-01" again. MAX_PAGES only bounds pages with a start key.
// DynamoAuditLog: endless Query calls until the Lambda times out (I3). FileAuditLog: partitionFile
// throws a plain Error ("not an audit day") → 500 (I4: no 500 from client input).
const query = parseAuditQuery({ since: '9999-12-31T00:00:00Z', until: '9999-12-31T12:00:00Z' }, Date.UTC(2026, 0, 1));

// The same at the other end: since=0000-01-01T00:00+01:00 is "-000001-12-31T23:00:00.000Z", whose
// day "-000001-12" sorts before "0000-01-01" ('-' < '0') and is its own nextDay.
const yearZero = parseAuditQuery({ since: '0000-01-01T00:00+01:00', until: '0000-01-01T12:00Z' }, Date.UTC(2026, 0, 1));

describe('audit query before year 0', () => {
  it('reads a bounded number of pages', async () => {
    let pages = 0;
    await pagedAuditQuery(yearZero, Date.UTC(2026, 0, 1), async ({ day }) => {
      pages += 1;
      if (pages > 50) throw new Error(`unbounded: ${pages} pages read, day ${day}`);
      return { entries: [] };
    });
    expect(pages).toBeLessThanOrEqual(2);
  });
});

describe('audit query over year 9999', () => {
  it('reads a bounded number of pages (DynamoDB store: one per day partition, here one)', async () => {
    let pages = 0;
    const days: string[] = [];
    const out = await pagedAuditQuery(query, Date.UTC(2026, 0, 1), async ({ day }) => {
      pages += 1;
      days.push(day);
      if (pages > 50) throw new Error(`unbounded: ${pages} pages read, days ${days.slice(0, 4).join(', ')}…`);
      return { entries: [] };
    });
    expect(out.items).toEqual([]);
    expect(pages).toBeLessThanOrEqual(1);
  });

  it('the local file store answers (no plain Error that becomes a 500)', async () => {
    const log = new FileAuditLog(join(mkdtempSync(join(tmpdir(), 'rt-audit-')), 'audit'), { now: () => Date.UTC(2026, 0, 1) });
    await expect(log.query('acme', query)).resolves.toEqual({ items: [] });
  });
});

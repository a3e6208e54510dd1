// Red team: the audit read-ahead against a filter-and-sort model, with pages bounded by MAX_PAGES
// (expired-heavy days, limit 1..3), many days, arbitrary resume cursors, principal filter.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../lib/audit/ports.ts';
import { pagedAuditQuery } from '../../lib/audit/paged-query.ts';
import { memoryAuditPages } from '../support/audit-pages.ts';

const DAY_MS = 86_400_000;
const T0 = Date.parse('2026-11-20T00:00:00.000Z');
const NOW_S = Math.floor((T0 + 40 * DAY_MS) / 1000);
const entryArb = (days: number) =>
  fc
    .record({
      ms: fc.integer({ min: 0, max: days * DAY_MS - 1 }),
      n: fc.integer({ min: 0, max: 0xffff }),
      principal: fc.constantFrom('a', 'b'),
      expired: fc.integer({ min: 0, max: 9 }),
    })
    .map(
      ({ ms, n, principal, expired }) =>
        ({
          id: `${new Date(T0 + ms).toISOString()}#${n.toString(16).padStart(12, '0')}`,
          tenant: 'acme',
          principal,
          expires_at: expired < 8 ? NOW_S - 1 : NOW_S + 60,
        }) as unknown as AuditEntry,
    );

describe('audit paging (red team)', () => {
  it('matches the model across many pages, days and arbitrary cursors', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(entryArb(35), { maxLength: 150, selector: (e) => e.id }),
        fc.integer({ min: 0, max: 35 * DAY_MS }),
        fc.integer({ min: 1, max: 31 * DAY_MS }),
        fc.integer({ min: 1, max: 3 }),
        fc.option(fc.constantFrom('a', 'b'), { nil: undefined }),
        fc.option(fc.integer({ min: 0, max: 35 * DAY_MS }), { nil: undefined }),
        async (entries, fromMs, spanMs, limit, principal, afterMs) => {
          const since = new Date(T0 + fromMs).toISOString();
          const until = new Date(T0 + fromMs + spanMs).toISOString();
          let after = afterMs === undefined ? undefined : `${new Date(T0 + afterMs).toISOString()}#000000008000`;
          const expected = entries
            .filter(
              (e) =>
                e.id >= since &&
                e.id < until &&
                (e.expires_at as number) >= NOW_S &&
                (after === undefined || after < since || e.id > after),
            )
            .filter((e) => principal === undefined || e.principal === principal)
            .map((e) => e.id)
            .sort();
          const seen: string[] = [];
          for (let call = 0; call < 2000; call++) {
            const { items, last } = await pagedAuditQuery(
              { since, until, limit, principal, after },
              NOW_S * 1000,
              memoryAuditPages(entries, { delayMs: 2 }).readPage,
            );
            expect(items.length).toBeLessThanOrEqual(limit);
            seen.push(...items.map((i) => i.id));
            if (last === undefined) break;
            expect(last > (after ?? '')).toBe(true);
            after = last;
          }
          expect(seen).toEqual(expected);
        },
      ),
      { numRuns: 150 },
    );
  }, 120_000);
});

// The query loop every audit store shares, against a model: whatever the records, window, page
// limit, principal filter and expiries, a query answers the records a plain filter-and-sort would,
// in id order, and resuming from its `last` cursor answers the rest, until none is left. The store
// (test/support/audit-pages.ts) reads pages as DynamoDB's Query does and counts its reads: the
// read-ahead of the next day reads at most one page more than needed.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../../lib/audit/ports.ts';
import { pagedAuditQuery, type ReadAuditPage } from '../../../lib/audit/paged-query.ts';
import { memoryAuditPages } from '../../support/audit-pages.ts';

const DAY_MS = 86_400_000;
const T0 = Date.parse('2026-12-05T00:00:00.000Z');
const NOW_S = Math.floor((T0 + 3 * DAY_MS) / 1000);

const entryArb = fc
  .record({
    ms: fc.integer({ min: 0, max: 3 * DAY_MS - 1 }),
    n: fc.integer({ min: 0, max: 0xffff }),
    principal: fc.constantFrom('a', 'b'),
    expired: fc.boolean(),
  })
  .map(
    ({ ms, n, principal, expired }): AuditEntry =>
      ({
        id: `${new Date(T0 + ms).toISOString()}#${n.toString(16).padStart(12, '0')}`,
        event: 'token.exchange',
        outcome: 'success',
        tenant: 'acme',
        principal,
        expires_at: expired ? NOW_S - 1 : NOW_S + 3600,
      }) as unknown as AuditEntry,
  );

describe('pagedAuditQuery', () => {
  it('answers what a filter and a sort would, and its cursor resumes exactly where it stopped', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(entryArb, { maxLength: 60, selector: (e) => e.id }),
        fc.integer({ min: 0, max: 3 * DAY_MS }),
        fc.integer({ min: 1, max: 3 * DAY_MS }),
        fc.integer({ min: 1, max: 25 }),
        fc.option(fc.constantFrom('a', 'b'), { nil: undefined }),
        async (entries, fromMs, spanMs, limit, principal) => {
          const since = new Date(T0 + fromMs).toISOString();
          const until = new Date(T0 + fromMs + spanMs).toISOString();
          const expected = entries
            .filter((e) => e.id >= since && e.id < until && (e.expires_at as number) >= NOW_S)
            .filter((e) => principal === undefined || e.principal === principal)
            .map((e) => e.id)
            .sort();
          const store = memoryAuditPages(entries);
          const seen: string[] = [];
          let after: string | undefined;
          for (let call = 0; call < 200; call++) {
            const { items, last } = await pagedAuditQuery({ since, until, limit, principal, after }, NOW_S * 1000, store.readPage);
            expect(items.length).toBeLessThanOrEqual(limit);
            seen.push(...items.map((i) => i.id));
            if (last === undefined) break;
            after = last;
          }
          expect(seen).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('reads the two days of a 24 h window at once, not one after the other', async () => {
    const started: string[] = [];
    let inFlight = 0;
    let most = 0;
    const readPage: ReadAuditPage = async ({ day }) => {
      started.push(day);
      inFlight += 1;
      most = Math.max(most, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight -= 1;
      return { entries: [] };
    };
    const until = new Date(T0 + 1.5 * DAY_MS).toISOString();
    const since = new Date(T0 + 0.5 * DAY_MS).toISOString();
    await pagedAuditQuery({ since, until, limit: 50, principal: undefined, after: undefined }, NOW_S * 1000, readPage);
    expect(started).toEqual(['2026-12-05', '2026-12-06']);
    expect(most).toBe(2);
  });

  it('reads at most one page ahead that the answer does not need', async () => {
    const entries = Array.from({ length: 30 }, (_, i) => ({
      id: `2026-12-05T10:00:${String(i).padStart(2, '0')}.000Z#000000000000`,
      tenant: 'acme',
      expires_at: NOW_S + 60,
    })) as unknown as AuditEntry[];
    const store = memoryAuditPages(entries);
    const window = { since: '2026-12-05T00:00:00.000Z', until: '2026-12-08T00:00:00.000Z', principal: undefined, after: undefined };
    const { items, last } = await pagedAuditQuery({ ...window, limit: 10 }, NOW_S * 1000, store.readPage);
    expect(items).toHaveLength(10);
    expect(last).toBe(items[9]!.id);
    // The first day's page and the second day's read-ahead; never the third day.
    expect(store.reads()).toBe(2);
  });
});

import { appendFileSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AuditEntry, AuditQuery } from '../../../lib/audit/ports.ts';
import { FileAuditLog } from '../../../lib/local/file-audit-log.ts';

const NOW = Date.UTC(2025, 0, 3, 12);
const clock = { now: () => NOW };
const LIVE = Math.floor(NOW / 1000) + 86_400;

/** An entry at `time` with a fixed id suffix `n` (12 hex), live unless `expires_at` is given. */
function entry(time: string, n: number, fields: Partial<AuditEntry> = {}): AuditEntry {
  return {
    time,
    id: `${time}#${n.toString(16).padStart(12, '0')}`,
    event: 'token.exchange',
    outcome: 'success',
    tenant: 'acme',
    expires_at: LIVE,
    ...fields,
  };
}

function store() {
  const dir = join(mkdtempSync(join(tmpdir(), 'fedbroker-audit-')), 'audit');
  return { dir, log: new FileAuditLog(dir, clock) };
}

const day1 = [
  entry('2025-01-01T10:00:00.000Z', 1, { principal: 'acme/ci/a' }),
  entry('2025-01-01T11:00:00.000Z', 2, { principal: 'acme/ci/b' }),
  entry('2025-01-01T12:00:00.000Z', 3, { claimed_principal: 'acme/ci/a', outcome: 'refused' }),
];
const day2 = [entry('2025-01-02T09:00:00.000Z', 4, { principal: 'acme/ci/a' }), entry('2025-01-02T23:59:59.999Z', 5)];
const range = { since: '2025-01-01T00:00:00.000Z', until: '2025-01-03T00:00:00.000Z', limit: 100 };
const ids = (n: number[]) => n.map((i) => [...day1, ...day2][i - 1]!.id);

describe('FileAuditLog', () => {
  it('keeps every record when more partitions are written than it keeps open', async () => {
    const { log } = store();
    const tenants = Array.from({ length: 40 }, (_, i) => `tenant-${i}`);
    for (const round of [1, 2]) for (const tenant of tenants) await log.putAll([entry('2025-01-01T10:00:00.000Z', round, { tenant })]);
    for (const tenant of tenants) {
      const out = await log.query(tenant, range);
      expect(out.items.map((r) => r.id)).toEqual([1, 2].map((n) => entry('2025-01-01T10:00:00.000Z', n).id));
    }
  });

  it.each<[string, Partial<AuditQuery>, number[], number | undefined]>([
    ['every record of the range, in time order, across days', {}, [1, 2, 3, 4, 5], undefined],
    ['since inclusive, until exclusive', { since: day1[1]!.time, until: day2[1]!.time }, [2, 3, 4], undefined],
    ['only the verified principal, never a claimed one', { principal: 'acme/ci/a' }, [1, 4], undefined],
    ['at most limit records, with the last one as cursor', { limit: 2 }, [1, 2], 2],
    ['a cursor set even when the limit is met exactly at the end', { limit: 5 }, [1, 2, 3, 4, 5], 5],
    ['strictly after the cursor', { after: ids([2])[0] }, [3, 4, 5], undefined],
    ['nothing after a cursor at or past until', { after: '2025-01-03T00:00:00.000Z#000000000000' }, [], undefined],
    [
      'a cursor before since clamped to since',
      { since: day1[1]!.time, after: '2024-12-31T00:00:00.000Z#000000000000' },
      [2, 3, 4, 5],
      undefined,
    ],
  ])('returns %s', async (_name, query, expected, last) => {
    const { log } = store();
    await log.putAll(day1);
    await log.putAll(day2);
    const out = await log.query('acme', { ...range, ...query });
    expect(out.items.map((r) => r.id)).toEqual(ids(expected));
    expect(out.last).toEqual(last === undefined ? undefined : ids([last])[0]);
  });

  it('returns the record with its id and without the copy’s expiry', async () => {
    const { log } = store();
    await log.putAll([day1[0]!]);
    const { expires_at: _exp, ...record } = day1[0]!;
    expect((await log.query('acme', range)).items).toEqual([record]);
  });

  it('keeps tenants apart', async () => {
    const { log } = store();
    await log.putAll(day1);
    await log.putAll([entry('2025-01-01T10:30:00.000Z', 9, { tenant: 'globex' })]);
    expect((await log.query('globex', range)).items.map((r) => r.tenant)).toEqual(['globex']);
    expect((await log.query('acme', range)).items).toHaveLength(3);
  });

  it('stores a redelivered id once, the last write winning', async () => {
    const { log } = store();
    await log.putAll(day1);
    await log.putAll([{ ...day1[0]!, reason: 'second' }]);
    const { items } = await log.query('acme', range);
    expect(items.map((r) => r.id)).toEqual(ids([1, 2, 3]));
    expect(items[0]!.reason).toBe('second');
  });

  it('skips entries past their expiry (no TTL deletes them)', async () => {
    const { log } = store();
    await log.putAll([entry('2025-01-01T10:00:00.000Z', 1, { expires_at: Math.floor(NOW / 1000) - 1 }), day1[1]!]);
    expect((await log.query('acme', range)).items.map((r) => r.id)).toEqual([day1[1]!.id]);
  });

  it('returns nothing for a tenant or day never written', async () => {
    const { log } = store();
    expect(await log.query('acme', range)).toEqual({ items: [] });
  });

  it('skips a line cut short by a crash, and the next write after it starts a new line', async () => {
    const { dir, log } = store();
    await log.putAll([day1[0]!]);
    const file = join(dir, 'acme', '2025-01-01.jsonl');
    appendFileSync(file, JSON.stringify(day1[1]).slice(0, 40));
    const restarted = new FileAuditLog(dir, clock);
    expect((await restarted.query('acme', range)).items.map((r) => r.id)).toEqual(ids([1]));
    await restarted.putAll([day1[2]!]);
    expect((await restarted.query('acme', range)).items.map((r) => r.id)).toEqual(ids([1, 3]));
  });

  it('appends one JSON entry per line, each write on a new line, one file per tenant and day', async () => {
    const { dir, log } = store();
    await log.putAll(day1);
    await log.putAll(day2.map((e) => ({ ...e, time: day1[0]!.time, id: `${day1[0]!.time}#${e.id.slice(-12)}` })));
    const lines = readFileSync(join(dir, 'acme', '2025-01-01.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l !== '');
    expect(lines.map((l) => JSON.parse(l))).toHaveLength(day1.length + day2.length);
    expect(lines.slice(0, day1.length).map((l) => JSON.parse(l))).toEqual(day1);
  });

  it('keeps its folders 0700 and files 0600', async () => {
    const { dir, log } = store();
    await log.putAll(day1);
    const mode = (p: string) => (statSync(p).mode & 0o777).toString(8);
    expect([mode(dir), mode(join(dir, 'acme')), mode(join(dir, 'acme', '2025-01-01.jsonl'))]).toEqual(['700', '700', '600']);
  });

  it.each(['../x', 'a/b', '..', 'ACME', '', '_other'])('refuses the tenant %j before building any path', async (tenant) => {
    const { log } = store();
    await expect(log.putAll([entry('2025-01-01T10:00:00.000Z', 1, { tenant })])).rejects.toThrow(/tenant/);
    await expect(log.query(tenant, range)).rejects.toThrow(/tenant/);
  });

  it.each(['../../../x', '2025-01-0/', 'x'])('refuses the day of a time %j before building any path', async (time) => {
    const { log } = store();
    await expect(log.putAll([entry(time, 1)])).rejects.toThrow(/day/);
  });

  it('writes none of a call’s entries when one of them is refused', async () => {
    const { log } = store();
    await expect(log.putAll([day1[0]!, entry('2025-01-01T10:00:00.000Z', 2, { tenant: '../x' })])).rejects.toThrow();
    expect((await log.query('acme', range)).items).toEqual([]);
  });

  it('accepts the system and unknown tenants', async () => {
    const { log } = store();
    await log.putAll([
      entry('2025-01-01T10:00:00.000Z', 1, { tenant: '_system' }),
      entry('2025-01-01T10:00:00.000Z', 2, { tenant: '_unknown' }),
    ]);
    expect((await log.query('_system', range)).items).toHaveLength(1);
    expect((await log.query('_unknown', range)).items).toHaveLength(1);
  });
});

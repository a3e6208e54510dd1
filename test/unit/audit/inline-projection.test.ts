import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InlineAuditProjection } from '../../../lib/audit/inline-projection.ts';
import type { AuditEntry, AuditTableWriter } from '../../../lib/audit/ports.ts';
import { auditLine, LogAuditSink } from '../../../lib/audit/sinks.ts';
import { entryId } from '../../../lib/audit/trail.ts';
import { FileAuditLog } from '../../../lib/local/file-audit-log.ts';

const entry = (n: number): AuditEntry => {
  const time = new Date(Date.UTC(2025, 0, 1, 0, 0, n)).toISOString();
  return { time, id: entryId(time), event: 'token.exchange', outcome: 'success', tenant: 'acme', expires_at: 2_000_000_000 };
};
/** What the log sink hands the projection: the line as written (lib/audit/sinks.ts). */
const line = (n: number) => auditLine(entry(n));

function writer(failures = 0) {
  const batches: AuditEntry[][] = [];
  let left = failures;
  const w: AuditTableWriter = {
    putAll: async (entries) => {
      if (left-- > 0) throw new Error('table unavailable');
      batches.push([...entries]);
    },
  };
  return { w, batches };
}

describe('InlineAuditProjection', () => {
  it('copies entries written in the same turn as one batch, in order, off the caller’s path', async () => {
    const { w, batches } = writer();
    const p = new InlineAuditProjection(w);
    p.add(line(1));
    p.add(line(2));
    expect(batches).toEqual([]);
    await p.drain();
    expect(batches).toHaveLength(1);
    expect(batches[0]!.map((e) => e.time)).toEqual([entry(1).time, entry(2).time]);
  });

  it('keeps entries the table refused and copies them on the next drain, none lost or repeated', async () => {
    const { w, batches } = writer(1);
    const p = new InlineAuditProjection(w);
    p.add(line(1));
    await p.drain();
    expect(batches).toEqual([]);
    p.add(line(2));
    await p.drain();
    expect(batches.flat().map((e) => e.time)).toEqual([entry(1).time, entry(2).time]);
  });

  it('stores each entry exactly as its line carries it', async () => {
    const { w, batches } = writer();
    const p = new InlineAuditProjection(w);
    const full: AuditEntry = { ...entry(1), trust: 'ci', principal: 'acme/ci/x', scopes: ['id-token:issue'], detail: { n: 1 } };
    p.add(auditLine(full));
    await p.drain();
    expect(batches).toEqual([[full]]);
  });

  it('drops a line that is not a well-formed entry, as auditIngest does, and stores the rest', async () => {
    const { w, batches } = writer();
    const p = new InlineAuditProjection(w);
    p.add(line(1));
    p.add(auditLine({ ...entry(2), tenant: 'NOT A TENANT' }));
    p.add('{"level":"INFO","message":"audit","audit":true}\n');
    p.add(line(3));
    await p.drain();
    expect(batches.flat().map((e) => e.time)).toEqual([entry(1).time, entry(3).time]);
  });

  it('writes each tenant partition on its own: one failing partition does not hold back another', async () => {
    const stored: AuditEntry[] = [];
    let refuseBeta = true;
    const p = new InlineAuditProjection({
      putAll: async (entries) => {
        if (refuseBeta && entries[0]!.tenant === 'beta') throw new Error('throttled');
        stored.push(...entries);
      },
    });
    p.add(auditLine({ ...entry(1), tenant: 'beta' }));
    p.add(line(2));
    await p.drain();
    expect(stored.map((e) => e.tenant)).toEqual(['acme']);
    refuseBeta = false;
    await p.drain();
    // The failed batch is delivered again whole; puts are idempotent by id, so acme is not duplicated in the table.
    expect(stored.map((e) => e.tenant).sort()).toEqual(['acme', 'acme', 'beta']);
  });

  it('copies to the local run’s audit files, readable back once drained', async () => {
    const log = new FileAuditLog(join(mkdtempSync(join(tmpdir(), 'fedbroker-audit-')), 'audit'), { now: () => Date.UTC(2025, 0, 1) });
    const p = new InlineAuditProjection(log);
    for (let i = 0; i < 30; i++) p.add(line(i));
    await p.drain();
    const { items } = await log.query('acme', { since: '2025-01-01T00:00:00.000Z', until: '2025-01-02T00:00:00.000Z', limit: 100 });
    expect(items.map((r) => r.time)).toEqual(Array.from({ length: 30 }, (_, i) => entry(i).time));
  });

  it('drains to nothing when nothing was written', async () => {
    const { w, batches } = writer();
    await new InlineAuditProjection(w).drain();
    expect(batches).toEqual([]);
  });
});

describe('InlineAuditProjection batching', () => {
  it('writes a full batch of 25 at once, without waiting for the linger timer', async () => {
    const { w, batches } = writer();
    const p = new InlineAuditProjection(w);
    for (let i = 0; i < 25; i++) p.add(line(i));
    await new Promise((r) => setImmediate(r));
    expect(batches.map((b) => b.length)).toEqual([25]);
  });

  it('starts a full batch after the writer returns, never inside the write that filled it', async () => {
    const { w, batches } = writer();
    let calls = 0;
    const p = new InlineAuditProjection({
      putAll: (entries) => {
        calls++;
        return w.putAll(entries);
      },
    });
    for (let i = 0; i < 25; i++) p.add(line(i));
    expect(calls).toBe(0);
    await new Promise((r) => setImmediate(r));
    expect(batches.map((b) => b.length)).toEqual([25]);
  });

  it('copies entries written while a flush runs, with none lost or repeated', async () => {
    const { w, batches } = writer();
    const p = new InlineAuditProjection(w);
    for (let i = 0; i < 25; i++) p.add(line(i));
    for (let i = 25; i < 30; i++) p.add(line(i));
    await p.drain();
    const times = batches.flat().map((e) => e.time);
    expect(times).toEqual(Array.from({ length: 30 }, (_, i) => entry(i).time));
  });
});

describe('LogAuditSink feeding the copy', () => {
  it('hands the copy exactly the line it wrote, after writing it', () => {
    const events: [string, string][] = [];
    const sink = new LogAuditSink({ write: (l) => events.push(['write', l]), copy: (l) => events.push(['copy', l]) });
    sink.write(entry(1));
    expect(events.map(([what]) => what)).toEqual(['write', 'copy']);
    expect(events[1]![1]).toBe(events[0]![1]);
  });

  it('never copies a line it could not write (no record, no grant, no table copy)', () => {
    const copied: string[] = [];
    const sink = new LogAuditSink({
      write: () => {
        throw new Error('standard output is not writable');
      },
      copy: (l) => copied.push(l),
    });
    expect(() => sink.write(entry(1))).toThrow('standard output is not writable');
    expect(copied).toEqual([]);
  });
});

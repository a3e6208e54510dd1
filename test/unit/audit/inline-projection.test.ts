import { describe, expect, it } from 'vitest';
import { InlineAuditProjection } from '../../../lib/audit/inline-projection.ts';
import type { AuditEntry, AuditTableWriter } from '../../../lib/audit/ports.ts';
import { entryId } from '../../../lib/audit/trail.ts';

const entry = (n: number): AuditEntry => {
  const time = new Date(Date.UTC(2025, 0, 1, 0, 0, n)).toISOString();
  return { time, id: entryId(time), event: 'token.exchange', outcome: 'success', tenant: 'acme', expires_at: 2_000_000_000 };
};

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
    p.write(entry(1));
    p.write(entry(2));
    expect(batches).toEqual([]);
    await p.drain();
    expect(batches).toHaveLength(1);
    expect(batches[0]!.map((e) => e.time)).toEqual([entry(1).time, entry(2).time]);
  });

  it('keeps entries the table refused and copies them on the next drain, none lost or repeated', async () => {
    const { w, batches } = writer(1);
    const p = new InlineAuditProjection(w);
    p.write(entry(1));
    await p.drain();
    expect(batches).toEqual([]);
    p.write(entry(2));
    await p.drain();
    expect(batches.flat().map((e) => e.time)).toEqual([entry(1).time, entry(2).time]);
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
    for (let i = 0; i < 25; i++) p.write(entry(i));
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
    for (let i = 0; i < 25; i++) p.write(entry(i));
    expect(calls).toBe(0);
    await new Promise((r) => setImmediate(r));
    expect(batches.map((b) => b.length)).toEqual([25]);
  });

  it('copies entries written while a flush runs, with none lost or repeated', async () => {
    const { w, batches } = writer();
    const p = new InlineAuditProjection(w);
    for (let i = 0; i < 25; i++) p.write(entry(i));
    for (let i = 25; i < 30; i++) p.write(entry(i));
    await p.drain();
    const times = batches.flat().map((e) => e.time);
    expect(times).toEqual(Array.from({ length: 30 }, (_, i) => entry(i).time));
  });
});

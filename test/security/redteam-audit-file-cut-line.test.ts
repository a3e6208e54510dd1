import { appendFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import type { AuditEntry } from '../../lib/audit/ports.ts';
import { FileAuditLog } from '../../lib/local/file-audit-log.ts';

// Red team (low): FileAuditLog checks a file's last byte for a cut line only on its FIRST append
// (#checked). The CLI (`fedbroker admin …`) appends to the same files while the run is up; if it
// dies mid-write (Ctrl-C, kill) the broker's next line is glued onto the cut one and its record
// vanishes from the audit API — a record that was written and granted.
const NOW = Date.UTC(2025, 0, 1, 12);
const entry = (n: number): AuditEntry => ({
  time: `2025-01-01T10:00:0${n}.000Z`,
  id: `2025-01-01T10:00:0${n}.000Z#00000000000${n}`,
  event: 'token.exchange',
  outcome: 'success',
  tenant: 'acme',
  expires_at: Math.floor(NOW / 1000) + 86_400,
});

it('a record the broker appends after another writer left a cut line is still read', async () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'rt-cut-')), 'audit');
  const broker = new FileAuditLog(dir, { now: () => NOW });
  await broker.putAll([entry(1)]);
  // Another process (the CLI) stops mid-line.
  appendFileSync(join(dir, 'acme', '2025-01-01.jsonl'), '{"time":"2025-01-01T10:00:02.000Z","id":"2025-01');
  await broker.putAll([entry(3)]);
  const out = await broker.query('acme', { since: '2025-01-01T00:00:00.000Z', until: '2025-01-02T00:00:00.000Z', limit: 10 });
  expect(out.items.map((i) => i.id)).toEqual([entry(1).id, entry(3).id]);
});

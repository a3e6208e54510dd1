import { codeUnitOrder } from '../code-unit-order.ts';
import { type FileHandle, mkdir, open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pagedAuditQuery, type ReadAuditPage } from '../audit/paged-query.ts';
import type { AuditEntry, AuditQuery, AuditReader, AuditTableWriter, StoredAuditRecord } from '../audit/ports.ts';
import { SYSTEM_TENANT, UNKNOWN_TENANT } from '../audit/trail.ts';
import { systemClock, type Clock } from '../clock.ts';
import { TENANT_ID } from '../tenants/tenant.ts';

const DAY = /^\d{4}-\d{2}-\d{2}$/;
/** Partition files kept open for appending: a day's tenants, not every file ever written. */
const OPEN_FILES = 16;

/**
 * The path of a partition's file. Both components are checked here, before any path is built,
 * whatever the caller checked: a tenant or day such as `../x` or `a/b` must never reach the
 * file system (the tenant comes from a URL on the read side, from a log line on the write side).
 */
function partitionFile(dir: string, tenant: string, day: string): string {
  if (!(TENANT_ID.test(tenant) || tenant === SYSTEM_TENANT || tenant === UNKNOWN_TENANT)) throw new Error('not an audit tenant id');
  if (!DAY.test(day)) throw new Error('not an audit day (yyyy-mm-dd)');
  return join(dir, tenant, `${day}.jsonl`);
}

/** The entries of a partition file by id, the last line of an id winning (a put replaces the item). */
function parsePartition(text: string): AuditEntry[] {
  const byId = new Map<string, AuditEntry>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    let entry: unknown;
    try {
      entry = JSON.parse(line);
    } catch {
      // A line cut short by a crash mid-write: that entry is lost from the copy (its log line is
      // the record), the others are read.
      continue;
    }
    if (typeof entry !== 'object' || entry === null || typeof (entry as AuditEntry).id !== 'string') continue;
    byId.set((entry as AuditEntry).id, entry as AuditEntry);
  }
  // Ids sort by time, as the table's sort key does (code unit order, like DynamoDB's for strings).
  return [...byId.values()].sort((a, b) => codeUnitOrder(a.id, b.id));
}

/**
 * The local run's copy of the audit trail, in JSON-lines files instead of the table:
 * `<dir>/<tenant>/<yyyy-mm-dd>.jsonl`, the table's partitions (`AUDIT#<tenant>#<day>`), one entry
 * per line, appended. dynalite spends about 150 µs of CPU per item (a LevelDB read and write,
 * request validation, the SDK), a third of the local run's CPU per request; an append is one
 * write per batch. Owner-only (folders 0700, files 0600) like the rest of the local data folder
 * (lib/local/private-data-dir.ts). Reads answer exactly as `DynamoAuditLog` does: the same query
 * loop (lib/audit/paged-query.ts) over pages read the way DynamoDB's Query reads them
 * (test/unit/local/file-audit-log.property.test.ts compares the two on dynalite).
 *
 * Not reproduced: Query also ends a page at 1 MB of items. 200 audit records reach that only when
 * they average over 5 KB (the ingest caps keep most under 1 KB); then the table would answer a
 * filtered query with a cursor a little earlier than this does. Harmless: either cursor resumes
 * strictly after the last record read, so a caller following them sees every record once, in order.
 * A call repeating an id is taken here (the last line wins), where BatchWriteItem refuses it;
 * `ingestEntries` never sends one.
 */
export class FileAuditLog implements AuditTableWriter, AuditReader {
  readonly #dir: string;
  readonly #clock: Clock;
  /** Tenant folders made by this process: one mkdir per tenant, not per batch. */
  readonly #folders = new Set<string>();
  /**
   * Open append handles by path, oldest first: an open and a close per batch cost as much as the
   * write. The process's exit closes the last ones (nothing is buffered in them).
   */
  readonly #handles = new Map<string, Promise<FileHandle>>();

  constructor(dir: string, clock: Clock = systemClock) {
    this.#dir = dir;
    this.#clock = clock;
  }

  /** Appends the entries, one write per partition (a call normally carries one, see `ingestEntries`). */
  async putAll(entries: readonly AuditEntry[]): Promise<void> {
    const files = new Map<string, { tenant: string; text: string }>();
    for (const entry of entries) {
      const path = partitionFile(this.#dir, entry.tenant, entry.time.slice(0, 10));
      const file = files.get(path);
      const line = `${JSON.stringify(entry)}\n`;
      if (file) file.text += line;
      else files.set(path, { tenant: entry.tenant, text: line });
    }
    for (const [path, { tenant, text }] of files) await this.#append(path, tenant, text);
  }

  async #append(path: string, tenant: string, text: string): Promise<void> {
    if (!this.#folders.has(tenant)) {
      // `recursive` gives every folder it creates the mode, the audit folder itself included.
      await mkdir(join(this.#dir, tenant), { recursive: true, mode: 0o700 });
      this.#folders.add(tenant);
    }
    // Every write starts a new line: another writer (an earlier run, the CLI) that stopped mid-line
    // then loses only its cut entry, never the one written after it. Blank lines are skipped on read.
    await (await this.#handle(path)).appendFile(`\n${text}`);
  }

  #handle(path: string): Promise<FileHandle> {
    let handle = this.#handles.get(path);
    if (!handle) {
      if (this.#handles.size >= OPEN_FILES) {
        const [oldest, closing] = this.#handles.entries().next().value!;
        this.#handles.delete(oldest);
        void closing.then((h) => h.close()).catch(() => undefined);
      }
      // O_APPEND: every write lands at the end, also when the CLI appends to the same file.
      handle = open(path, 'a', 0o600);
      handle.catch(() => this.#handles.delete(path));
      this.#handles.set(path, handle);
    }
    return handle;
  }

  /** See `pagedAuditQuery`; pages are read from the partition file as DynamoDB's Query reads them. */
  query(tenant: string, q: AuditQuery): Promise<{ items: StoredAuditRecord[]; last?: string }> {
    const days = new Map<string, AuditEntry[]>();
    const readPage: ReadAuditPage = async ({ day, since, until, start, limit, principal }) => {
      const path = partitionFile(this.#dir, tenant, day);
      let all = days.get(day);
      if (!all) {
        all = parsePartition(await readIfExists(path));
        days.set(day, all);
      }
      const read: AuditEntry[] = [];
      for (const entry of all) {
        if (entry.id < since || entry.id > until || (start !== undefined && entry.id <= start)) continue;
        read.push(entry);
        if (read.length >= limit) break;
      }
      // As Query: the filter applies after the page is read, and a full page has a LastEvaluatedKey.
      const entries = principal !== undefined ? read.filter((e) => e.principal === principal) : read;
      const last = read.length >= limit ? read[read.length - 1] : undefined;
      return { entries, ...(last ? { lastKey: last.id } : {}) };
    };
    return pagedAuditQuery(q, this.#clock.now(), readPage);
  }
}

/** A missing file or folder is an empty partition. */
async function readIfExists(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw e;
  }
}

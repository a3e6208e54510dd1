import { describeError, logger } from '../log.ts';
import { countAuditLinesDropped, countAuditWriteFailure } from '../metrics.ts';
import { entryFromLine, ingestEntries } from './lines.ts';
import type { AuditEntry, AuditTableWriter } from './ports.ts';

/** Lines kept for a retry while the table is unreachable; beyond it the oldest are dropped (and counted). */
const MAX_PENDING = 10_000;
/** One BatchWriteItem's worth: a full batch is written at once. */
const BATCH = 25;
/** Longest a line waits for its batch to fill; readers never wait for it (they drain). */
const LINGER_MS = 100;

/**
 * The local run's stand-in for the CloudWatch Logs subscription and the `auditIngest` function:
 * the audit lines this process wrote (lib/audit/sinks.ts hands each on once it is written) are
 * copied to the writer in the background, in batches, through the same code as `auditIngest`
 * (lib/audit/lines.ts: each line checked and decoded by `entryFromLine`, written partition by
 * partition). Only where there is no log subscription: `npm start` (FEDBROKER_AUDIT_TABLE_WRITE=file,
 * to JSON-lines files, lib/local/file-audit-log.ts) and tests (`inline`, to the table); the
 * request path pays for the line alone, as deployed, and the line stays the record of truth
 * either way.
 */
export class InlineAuditProjection {
  readonly #writer: AuditTableWriter;
  #pending: string[] = [];
  #flushing: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #immediate: NodeJS.Immediate | undefined;
  #lastOk = true;

  constructor(writer: AuditTableWriter) {
    this.#writer = writer;
  }

  /** Takes one audit line, as written; never throws, never waits (the copy is not the record). */
  add(line: string): void {
    this.#pending.push(line);
    if (this.#pending.length > MAX_PENDING) {
      this.#pending.shift();
      countAuditWriteFailure();
    }
    this.#schedule();
  }

  // Batched like the log subscription delivers: a write per batch, not per record. A full batch
  // starts on the next turn of the event loop, not inside add(): decoding and writing 25 lines is
  // then never paid by the request whose line filled the batch, whose response leaves first.
  #schedule(): void {
    if (this.#pending.length >= BATCH) this.#immediate ??= setImmediate(() => this.#start()).unref();
    else if (this.#pending.length > 0) this.#timer ??= setTimeout(() => this.#start(), LINGER_MS).unref();
  }

  #start(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    clearImmediate(this.#immediate);
    this.#immediate = undefined;
    if (this.#flushing || this.#pending.length === 0) return;
    this.#flushing = this.#flush().then((ok) => {
      this.#flushing = undefined;
      this.#lastOk = ok;
      // After a failure the lines wait for the next line or drain, not a busy retry loop.
      if (ok) this.#schedule();
    });
  }

  async #flush(): Promise<boolean> {
    while (this.#pending.length > 0) {
      const lines = this.#pending;
      this.#pending = [];
      const entries: AuditEntry[] = [];
      for (const line of lines) {
        const entry = entryFromLine(line);
        if (entry) entries.push(entry);
      }
      if (entries.length < lines.length) {
        // As auditIngest does: a line that is not a well-formed entry is dropped, not stored.
        countAuditLinesDropped(lines.length - entries.length);
        logger.warn('log lines that are not audit entries were skipped', { dropped: lines.length - entries.length });
      }
      try {
        await ingestEntries(this.#writer, entries);
      } catch (e) {
        // Kept for the next line or drain, whole, as Lambda redelivers a failed delivery (puts
        // are idempotent by id); the log lines already hold these records.
        this.#pending = lines.concat(this.#pending).slice(-MAX_PENDING);
        countAuditWriteFailure();
        logger.warn('audit records not yet copied to the table', { pending: this.#pending.length, error: describeError(e) });
        return false;
      }
    }
    return true;
  }

  /**
   * Resolves once every line taken so far has been copied (or a copy attempt failed): before the
   * audit API reads, and before the local run stops.
   */
  async drain(): Promise<void> {
    this.#start();
    await this.#flushing;
    // Lines taken while that flush ran, if it succeeded.
    if (this.#lastOk && this.#pending.length > 0 && this.#flushing === undefined) {
      this.#start();
      await this.#flushing;
    }
  }
}

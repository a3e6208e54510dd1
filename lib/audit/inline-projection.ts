import { describeError, logger } from '../log.ts';
import { countAuditWriteFailure } from '../metrics.ts';
import type { AuditEntry, AuditTableWriter } from './ports.ts';
import type { SyncAuditSink } from './sinks.ts';

/** Entries kept for a retry while the table is unreachable; beyond it the oldest are dropped (and counted). */
const MAX_PENDING = 10_000;
/** One BatchWriteItem's worth: a full batch is written at once. */
const BATCH = 25;
/** Longest an entry waits for its batch to fill; readers never wait for it (they drain). */
const LINGER_MS = 100;

/**
 * The local run's stand-in for the CloudWatch Logs subscription: entries written by this process
 * are copied to the table in the background, in batches, through the same writer the
 * `auditIngest` function uses. Only for `npm start` (FEDBROKER_AUDIT_TABLE_WRITE=inline), where
 * there is no log subscription; the log line stays the record of truth either way.
 */
export class InlineAuditProjection implements SyncAuditSink {
  readonly #writer: AuditTableWriter;
  #pending: AuditEntry[] = [];
  #flushing: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #immediate: NodeJS.Immediate | undefined;
  #lastOk = true;

  constructor(writer: AuditTableWriter) {
    this.#writer = writer;
  }

  write(entry: AuditEntry): void {
    this.#pending.push(entry);
    if (this.#pending.length > MAX_PENDING) {
      this.#pending.shift();
      countAuditWriteFailure();
    }
    this.#schedule();
  }

  // Batched like the log subscription delivers: a write per batch, not per record, so the copy
  // costs the local run little (dynalite runs in the same process as the handlers). A full batch
  // starts on the next turn of the event loop, not inside write(): building and marshalling 25
  // items is then never paid by the request whose line filled the batch, whose response leaves first.
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
      // After a failure the entries wait for the next write or drain, not a busy retry loop.
      if (ok) this.#schedule();
    });
  }

  async #flush(): Promise<boolean> {
    while (this.#pending.length > 0) {
      const batch = this.#pending;
      this.#pending = [];
      try {
        await this.#writer.putAll(batch);
      } catch (e) {
        // Kept for the next write or drain; the log lines already hold these records.
        this.#pending = batch.concat(this.#pending).slice(-MAX_PENDING);
        countAuditWriteFailure();
        logger.warn('audit records not yet copied to the table', { pending: this.#pending.length, error: describeError(e) });
        return false;
      }
    }
    return true;
  }

  /** Resolves once every entry written so far has been copied (or a copy attempt failed). */
  async drain(): Promise<void> {
    this.#start();
    await this.#flushing;
    // Entries written while that flush ran, if it succeeded.
    if (this.#lastOk && this.#pending.length > 0 && this.#flushing === undefined) {
      this.#start();
      await this.#flushing;
    }
  }
}

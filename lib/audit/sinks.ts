import type { AuditEntry, AuditSink, AuditTableWriter } from './ports.ts';

/**
 * Audit lines are not diagnostics: a log level raised to WARN to cut noise must not drop them.
 * Only SILENT (the tests, the CLI) silences them too; the runtime then refuses grants unless
 * another copy is configured (see `auditStorage` in lib/handlers/runtime.ts).
 */
export const auditLinesSilenced = process.env.POWERTOOLS_LOG_LEVEL === 'SILENT';

/** How every audit line starts: what the ingest function requires of a log message. */
export const AUDIT_LINE_PREFIX = '{"level":"INFO","message":"audit",';

/**
 * Writes the entry as one JSON line with `audit: true` (what log queries and the subscription
 * filter select), shaped like the Powertools logger's lines (level, message, timestamp, service,
 * X-Ray trace id) so both read alike in CloudWatch. Written directly rather than through the
 * logger: the line is a data record with a fixed shape, not a diagnostic, and the logger's
 * per-line formatting cost as much as the rest of issuing a token.
 */
function logAuditLine(entry: AuditEntry): void {
  if (auditLinesSilenced) return;
  // A closed or destroyed stream is refused here, synchronously, so the grant fails closed;
  // errors the OS reports later (EPIPE) surface as the stream's error event instead.
  if (!process.stdout.writable) throw new Error('standard output is not writable');
  const trace = process.env._X_AMZN_TRACE_ID;
  const head = {
    level: 'INFO',
    message: 'audit',
    timestamp: new Date().toISOString(),
    service: 'fedbroker',
    ...(trace ? { xray_trace_id: trace.split(';')[0]?.replace('Root=', '') } : {}),
  };
  process.stdout.write(`${JSON.stringify({ ...head, audit: true, ...entry })}\n`);
}

/**
 * The trail's system of record: one JSON line per entry on the function's standard output,
 * written synchronously before the response leaves (Node writes to pipes and files synchronously
 * on Linux), so a token is never handed out before its record exists. Lambda delivers the line to
 * CloudWatch Logs; a subscription filter (`{ $.audit IS TRUE }`, serverless.yml) feeds the
 * `auditIngest` function, which copies entries into the table for the audit API. Like Vault's
 * file audit device, the request path pays for a local write, not a database round trip.
 */
export class LogAuditSink implements AuditSink {
  readonly #line: (entry: AuditEntry) => void;
  constructor(line: (entry: AuditEntry) => void = logAuditLine) {
    this.#line = line;
  }

  write(entry: AuditEntry): void {
    this.#line(entry);
  }
}

/** A sink that writes synchronously (throws, never rejects). */
export interface SyncAuditSink extends AuditSink {
  write(entry: AuditEntry): void;
}

/** Writes every entry to each synchronous sink in turn; the first failure stops (and fails) the write. */
export function teeSink(...sinks: SyncAuditSink[]): SyncAuditSink {
  return {
    write: (entry) => {
      for (const s of sinks) s.write(entry);
    },
  };
}

/**
 * Writes each entry straight to the table and waits for it: for the CLI, whose admin changes
 * bypass the API and whose output is a terminal, not CloudWatch Logs, so the table is the only copy.
 */
export function tableSink(writer: AuditTableWriter): AuditSink {
  return { write: (entry) => writer.putAll([entry]) };
}

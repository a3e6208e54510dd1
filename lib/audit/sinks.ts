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
 * The entry as one JSON line with `audit: true` (what log queries and the subscription filter
 * select), shaped like the Powertools logger's lines (level, message, timestamp, service, X-Ray
 * trace id) so both read alike in CloudWatch. Built directly rather than through the logger: the
 * line is a data record with a fixed shape, not a diagnostic, and the logger's per-line
 * formatting cost as much as the rest of issuing a token.
 */
export function auditLine(entry: AuditEntry): string {
  const trace = process.env._X_AMZN_TRACE_ID;
  const head = {
    level: 'INFO',
    message: 'audit',
    timestamp: new Date().toISOString(),
    service: 'fedbroker',
    ...(trace ? { xray_trace_id: trace.split(';')[0]?.replace('Root=', '') } : {}),
  };
  return `${JSON.stringify({ ...head, audit: true, ...entry })}\n`;
}

/** Writes an audit line to standard output (nothing when lines are silenced); throws when it cannot. */
function writeAuditLine(line: string): void {
  if (auditLinesSilenced) return;
  // A closed or destroyed stream is refused here, synchronously, so the grant fails closed;
  // errors the OS reports later (EPIPE) surface as the stream's error event instead.
  if (!process.stdout.writable) throw new Error('standard output is not writable');
  process.stdout.write(line);
}

/**
 * The trail's system of record: one JSON line per entry on the function's standard output,
 * written synchronously before the response leaves (Node writes to pipes and files synchronously
 * on Linux), so a token is never handed out before its record exists. Lambda delivers the line to
 * CloudWatch Logs; a subscription filter (`{ $.audit IS TRUE }`, serverless.yml) feeds the
 * `auditIngest` function, which copies entries into the table for the audit API. Like Vault's
 * file audit device, the request path pays for a local write, not a database round trip.
 *
 * `copy`, where there is no log subscription (the local run, tests), is handed each line once it
 * is written (with lines silenced, the tests' setting, as it would have been written): the
 * stand-in for the subscription (lib/audit/inline-projection.ts). A line that could not be
 * written is not handed on, as it would never reach a subscription either.
 */
export class LogAuditSink implements AuditSink {
  readonly #write: (line: string) => void;
  readonly #copy: ((line: string) => void) | undefined;
  constructor(options: { write?: (line: string) => void; copy?: (line: string) => void } = {}) {
    this.#write = options.write ?? writeAuditLine;
    this.#copy = options.copy;
  }

  write(entry: AuditEntry): void {
    const line = auditLine(entry);
    this.#write(line);
    this.#copy?.(line);
  }
}

/**
 * Writes each entry straight to the table and waits for it: for the CLI, whose admin changes
 * bypass the API and whose output is a terminal, not CloudWatch Logs, so the table is the only copy.
 */
export function tableSink(writer: AuditTableWriter): AuditSink {
  return { write: (entry) => writer.putAll([entry]) };
}

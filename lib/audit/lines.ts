import { ServiceUnavailable } from '../errors.ts';
import { TENANT_ID } from '../tenants/tenant.ts';
import { AUDIT_EVENTS, AUDIT_OUTCOMES, type AuditEntry, type AuditTableWriter } from './ports.ts';
import { AUDIT_LINE_PREFIX } from './sinks.ts';
import { SYSTEM_TENANT, UNKNOWN_TENANT } from './trail.ts';

// From audit log line to table item: what the `auditIngest` function does with each line a log
// subscription delivers (lib/audit/ingest.ts), and what the local run's background copy does
// with the lines this process writes (lib/audit/inline-projection.ts). Apart from the
// subscription's envelope (lib/audit/ingest.ts, with node:zlib), so every function's bundle can
// carry the local copy without it.

const ENTRY_SUFFIX = /^#[0-9a-f]{12}$/;
const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const EVENTS: ReadonlySet<string> = new Set(AUDIT_EVENTS);
const OUTCOMES: ReadonlySet<string> = new Set(AUDIT_OUTCOMES);
const TEXT_FIELDS = [
  'reason',
  'trust',
  'principal',
  'source_issuer',
  'source_subject',
  'claimed_tenant',
  'claimed_principal',
  'claimed_trust',
  'claimed_issuer',
  'claimed_subject',
  'audience',
  'jti',
  'target',
  'request_id',
  'source_ip',
] as const;

const isText = (v: unknown, max = 256): v is string => typeof v === 'string' && v.length <= max;

/**
 * The audit entry a log line carries, or undefined when the line is not a well-formed entry.
 * Only the record's own fields are kept: the logger's (level, timestamp, service, …) are not part
 * of the record. Anything malformed is dropped rather than stored: the trail's table copy holds
 * only what the trail wrote.
 */
export function entryFromLine(message: string): AuditEntry | undefined {
  // Exactly what auditLine (sinks.ts) builds, from the first character: a line that merely contains
  // such JSON after other text (another writer's output) is not an audit line.
  const text = message.trim();
  if (!text.startsWith(AUDIT_LINE_PREFIX)) return undefined;
  let line: Record<string, unknown>;
  try {
    line = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (typeof line !== 'object' || line === null || line.audit !== true) return undefined;
  const { time, id, tenant, event, outcome, expires_at: expiresAt, scopes, detail } = line;
  if (!isText(time) || !ISO_MS.test(time) || !isText(id) || !id.startsWith(`${time}#`) || !ENTRY_SUFFIX.test(id.slice(time.length)))
    return undefined;
  if (!isText(tenant) || !(TENANT_ID.test(tenant) || tenant === SYSTEM_TENANT || tenant === UNKNOWN_TENANT)) return undefined;
  if (!isText(event) || !EVENTS.has(event) || !isText(outcome) || !OUTCOMES.has(outcome)) return undefined;
  if (typeof expiresAt !== 'number' || !Number.isSafeInteger(expiresAt) || expiresAt <= 0) return undefined;
  const entry: Record<string, unknown> = { time, id, tenant, event, outcome, expires_at: expiresAt };
  for (const field of TEXT_FIELDS) {
    const v = line[field];
    if (v === undefined) continue;
    if (!isText(v)) return undefined;
    entry[field] = v;
  }
  if (scopes !== undefined) {
    if (!Array.isArray(scopes) || scopes.length > 10 || !scopes.every((s) => isText(s, 64))) return undefined;
    entry.scopes = scopes;
  }
  if (detail !== undefined) {
    if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) return undefined;
    const values = Object.values(detail as Record<string, unknown>);
    if (values.length > 20 || !values.every((v) => typeof v === 'number' || typeof v === 'boolean' || isText(v))) return undefined;
    entry.detail = detail;
  }
  return entry as unknown as AuditEntry;
}

/** The entries of one delivery by tenant and UTC day: the table's partitions (`AUDIT#<tenant>#<day>`). */
function byPartition(entries: readonly AuditEntry[]): AuditEntry[][] {
  const groups = new Map<string, AuditEntry[]>();
  for (const entry of entries) {
    const key = `${entry.tenant}#${entry.time.slice(0, 10)}`;
    const group = groups.get(key);
    if (group) group.push(entry);
    else groups.set(key, [entry]);
  }
  return [...groups.values()];
}

/** Some of a delivery's partitions could not be written; the rest were. */
export class AuditPartitionsUnwritten extends ServiceUnavailable {
  /** Tenants with a partition not written (tenant ids only: safe to log). */
  readonly tenants: string[];
  /** Entries not written. */
  readonly entries: number;
  constructor(tenants: string[], entries: number, cause: unknown) {
    super('audit records of some partitions were not stored; retry later', 1, { cause });
    this.tenants = tenants;
    this.entries = entries;
  }
}

/**
 * Writes entries to the table one partition (tenant and day) at a time, each retried on its own
 * by the writer. A delivery mixes tenants, and one hot partition (a tenant under a flood of
 * refusals, throttled) must not keep the others' records out of the table: every partition that
 * can be written is, and only then does the call reject ({@link AuditPartitionsUnwritten}), so
 * the caller can deliver the whole batch again (the written partitions again too: puts are
 * idempotent by id, so nothing is duplicated).
 */
export async function ingestEntries(writer: AuditTableWriter, entries: readonly AuditEntry[]): Promise<void> {
  const failed: { group: AuditEntry[]; error: unknown }[] = [];
  for (const group of byPartition(entries)) {
    try {
      await writer.putAll(group);
    } catch (error) {
      failed.push({ group, error });
    }
  }
  if (failed.length > 0) {
    const tenants = [...new Set(failed.map((f) => f.group[0]!.tenant))];
    throw new AuditPartitionsUnwritten(
      tenants,
      failed.reduce((n, f) => n + f.group.length, 0),
      failed.length === 1 ? failed[0]!.error : new AggregateError(failed.map((f) => f.error)),
    );
  }
}

import { gunzipSync } from 'node:zlib';
import type { AuditEntry, AuditTableWriter } from './ports.ts';
import { entryFromLine, ingestEntries } from './lines.ts';

export { AuditPartitionsUnwritten } from './lines.ts';

/** What Lambda receives from a CloudWatch Logs subscription filter: base64 of gzipped JSON. */
export interface LogsSubscriptionEvent {
  awslogs: { data: string };
}

/**
 * The decoded payload (CloudWatch Logs User Guide, "Subscription filters": log data sent to
 * Lambda). CONTROL_MESSAGE payloads only check that the destination is reachable.
 */
interface LogsPayload {
  messageType: 'DATA_MESSAGE' | 'CONTROL_MESSAGE';
  logGroup?: string;
  logEvents?: { id: string; timestamp: number; message: string }[];
}

/** A compressed payload is at most 1 MB per the service limits; anything far larger is not from CloudWatch Logs. */
const MAX_DECODED_BYTES = 8 * 1024 * 1024;

/** Decodes a subscription event: the audit entries it carries and how many log lines were not entries. */
function decodeSubscription(event: LogsSubscriptionEvent): { entries: AuditEntry[]; dropped: number } {
  const data = event?.awslogs?.data;
  if (typeof data !== 'string') throw new TypeError('not a CloudWatch Logs subscription event');
  const payload = JSON.parse(
    gunzipSync(Buffer.from(data, 'base64'), { maxOutputLength: MAX_DECODED_BYTES }).toString('utf8'),
  ) as LogsPayload;
  if (payload.messageType !== 'DATA_MESSAGE') return { entries: [], dropped: 0 };
  const entries: AuditEntry[] = [];
  let dropped = 0;
  for (const logEvent of payload.logEvents ?? []) {
    const entry = typeof logEvent?.message === 'string' ? entryFromLine(logEvent.message) : undefined;
    if (entry) entries.push(entry);
    else dropped += 1;
  }
  return { entries, dropped };
}

/**
 * Copies the audit entries of one subscription delivery into the table, partition by partition
 * ({@link ingestEntries}): a partition that cannot be written rejects the call once the others
 * are written, so Lambda redelivers the whole delivery.
 */
export async function ingestAuditLines(
  writer: AuditTableWriter,
  event: LogsSubscriptionEvent,
): Promise<{ stored: number; dropped: number }> {
  const { entries, dropped } = decodeSubscription(event);
  await ingestEntries(writer, entries);
  return { stored: entries.length, dropped };
}

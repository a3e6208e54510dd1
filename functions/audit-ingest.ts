import { AuditPartitionsUnwritten, ingestAuditLines, type LogsSubscriptionEvent } from '../lib/audit/ingest.ts';
import { DynamoAuditLog } from '../lib/aws/dynamo-audit-log.ts';
import { Table } from '../lib/aws/dynamo-table.ts';
import { loadConfig } from '../lib/config.ts';
import { lambdaHandler } from '../lib/lambda.ts';
import { describeError, logger } from '../lib/log.ts';
import { countAuditLinesDropped, countAuditWriteFailure } from '../lib/metrics.ts';

let writer: DynamoAuditLog | undefined;

/**
 * CloudWatch Logs subscription target (serverless.yml, filter `{ $.audit IS TRUE }` on every
 * function that audits): copies audit log lines into the table for the audit API, partition by
 * partition, so one throttled tenant does not hold back the others. A partition that cannot be
 * written rejects the invocation once the others are written, so Lambda retries the delivery
 * (twice, asynchronous invocation), then sends it to the AuditIngestFailures queue
 * (serverless.yml), from which it can be replayed; puts are idempotent by entry id.
 */
export const handler = lambdaHandler(async (event: LogsSubscriptionEvent): Promise<{ stored: number; dropped: number }> => {
  writer ??= new DynamoAuditLog(new Table(loadConfig().tableName));
  const result = await ingestAuditLines(writer, event).catch((e: unknown) => {
    countAuditWriteFailure();
    const unwritten = e instanceof AuditPartitionsUnwritten ? { tenants: e.tenants, entries: e.entries } : {};
    logger.error('audit entries not copied to the table; the delivery will be retried', { ...unwritten, error: describeError(e) });
    throw e;
  });
  if (result.dropped > 0) logger.warn('log lines that are not audit entries were skipped', { dropped: result.dropped });
  countAuditLinesDropped(result.dropped);
  return result;
});

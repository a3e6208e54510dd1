import { join } from 'node:path';
import type { AuditReader, AuditTableWriter } from '../audit/ports.ts';
import { DynamoAuditLog } from '../aws/dynamo-audit-log.ts';
import type { Table } from '../aws/dynamo-table.ts';
import { systemClock, type Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import { FileAuditLog } from '../local/file-audit-log.ts';
import { AUDIT_DIR } from '../local/private-data-dir.ts';

/**
 * Where the audit trail's copy is kept, for the broker (lib/handlers/runtime.ts) and for the
 * operator commands that write their own records (cli/commands/admin/): the table, or with
 * FEDBROKER_AUDIT_TABLE_WRITE=file (the local run) JSON-lines files under the data folder, so
 * an operator's change to a local run shows in that run's audit API.
 */
export function auditCopy(
  config: Pick<Config, 'auditTableWrite' | 'dataDir'>,
  table: Table,
  clock: Clock = systemClock,
): AuditTableWriter & AuditReader {
  if (config.auditTableWrite === 'file') return new FileAuditLog(join(config.dataDir, AUDIT_DIR), clock);
  return new DynamoAuditLog(table, undefined, clock);
}

import { describe, expect, it } from 'vitest';
import { operatorEnvironment } from '../../cli/operator.ts';
import { loadTenantAdminConfig } from '../../lib/config.ts';
import { DynamoAuditLog } from '../../lib/aws/dynamo-audit-log.ts';
import { auditCopy } from '../../lib/handlers/audit-copy.ts';
import { Table } from '../../lib/aws/dynamo-table.ts';

// Red team (I5): `fedbroker admin … --table <deployed table>` reads FEDBROKER_AUDIT_TABLE_WRITE from
// the operator's own shell (cli/operator.ts operatorEnvironment → loadTenantAdminConfig). With
// `file` exported (the local run's value, documented in docs/local-run.md), the record of a change
// to a DEPLOYED tenant is appended to ./.fedbroker/audit/<tenant>/<day>.jsonl on the operator's
// laptop instead of the deployment's table: the CLI writes no log line, so the deployment's audit
// trail never learns of the change (disable/enable tenant, allow/disallow pools and roles).
describe('operator commands against a named (deployed) table', () => {
  it('record their changes in that table, whatever FEDBROKER_AUDIT_TABLE_WRITE the shell has', () => {
    const saved = process.env.FEDBROKER_AUDIT_TABLE_WRITE;
    process.env.FEDBROKER_AUDIT_TABLE_WRITE = 'file';
    try {
      const config = loadTenantAdminConfig(operatorEnvironment('fedbroker-prod'));
      const table = new Table(config.tableName);
      try {
        expect(auditCopy(config, table)).toBeInstanceOf(DynamoAuditLog);
      } finally {
        table.doc.destroy();
      }
    } finally {
      if (saved === undefined) delete process.env.FEDBROKER_AUDIT_TABLE_WRITE;
      else process.env.FEDBROKER_AUDIT_TABLE_WRITE = saved;
    }
  });
});

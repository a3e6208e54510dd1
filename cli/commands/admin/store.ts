import { userInfo } from 'node:os';
import type { AdminDeps } from '../../../lib/app/documents.ts';
import type { Table } from '../../../lib/aws/dynamo-table.ts';
import { systemClock } from '../../../lib/clock.ts';
import { loadTenantAdminConfig, type TenantAdminConfig } from '../../../lib/config.ts';
import { ConfigError } from '../../../lib/errors.ts';
import { usageError } from '../../errors.ts';
import { operatorEnvironment } from '../../operator.ts';
import { notice, type OutputFormat } from '../../output.ts';

export interface StoreOptions {
  table?: string;
  output: OutputFormat;
}

/**
 * The deployment's configuration as the broker reads it (lib/config.ts, the subset tenant
 * commands need), from the environment or the local run. A bad variable is a usage error naming it.
 */
export function adminConfig(opts: StoreOptions): TenantAdminConfig {
  try {
    return loadTenantAdminConfig(operatorEnvironment(opts.table));
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    throw usageError(`fix the deployment's configuration: ${e.issues.join('; ')}`);
  }
}

/** Records one tenant change in the audit trail (after it was made); never fails the command. */
export type TenantAudit = (
  event:
    | 'tenant.create'
    | 'tenant.disable'
    | 'tenant.enable'
    | 'tenant.allow_resource'
    | 'tenant.disallow_resource'
    | 'trust_relationship.create',
  tenant: string,
  target?: string,
) => Promise<void>;

/**
 * Runs `fn` against the trust store in DynamoDB with the operator's own AWS credentials (SDK
 * default chain; AWS_ENDPOINT_URL_DYNAMODB is honoured by the SDK itself). The AWS modules are
 * imported here, not at the top, so the `auth` commands never pay for initialising them.
 */
export async function withStore<T>(
  config: TenantAdminConfig,
  local: boolean,
  fn: (deps: AdminDeps, audit: TenantAudit) => Promise<T>,
): Promise<T> {
  const [{ Table }, { DynamoTrustStore }] = await Promise.all([
    import('../../../lib/aws/dynamo-table.ts'),
    import('../../../lib/aws/dynamo-trust-store.ts'),
  ]);
  const table = new Table(config.tableName);
  try {
    return await fn(
      { store: new DynamoTrustStore(table), clock: systemClock, local, cognitoIssuer: config.cognito.issuer },
      await tenantAudit(table, config),
    );
  } finally {
    table.doc.destroy();
  }
}

/**
 * The audit trail the deployment writes, written from here because tenant changes never pass
 * through the API. The actor is the local user name (CloudTrail holds the AWS identity that
 * made the write); a record that cannot be stored is reported, the change stands.
 */
async function tenantAudit(table: Table, config: TenantAdminConfig): Promise<TenantAudit> {
  const [{ AuditTrail }, { auditCopy }, { tableSink }] = await Promise.all([
    import('../../../lib/audit/trail.ts'),
    import('../../../lib/handlers/audit-copy.ts'),
    import('../../../lib/audit/sinks.ts'),
  ]);
  const trail = new AuditTrail({
    // The table, or a local run's audit files (FEDBROKER_AUDIT_TABLE_WRITE=file): where its audit API reads.
    sink: tableSink(auditCopy(config, table)),
    clock: systemClock,
    retentionDays: config.auditRetentionDays,
  });
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (some containers): the record still says it came from the CLI
  }
  return async (event, tenant, target = tenant) => {
    const stored = await trail.recordApplied({
      event,
      outcome: 'success',
      tenant,
      principal: `operator:${user}`,
      target,
      detail: { via: 'cli' },
    });
    if (!stored) notice(`the change was made, but its audit record could not be stored`);
  };
}

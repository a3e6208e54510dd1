import { userInfo } from 'node:os';
import { Option, type Command } from 'commander';
import { systemClock } from '../../lib/clock.ts';
import { describeJsonShapeIssue, jsonShapeIssue } from '../../lib/json-shape.ts';
import { createTenant, relationships, setTenantStatus, type AdminDeps } from '../../lib/app/documents.ts';
import { allowIdentityPool, disallow } from '../../lib/app/ownership.ts';
import { validateRelationship } from '../../lib/trust/policy.ts';
import type { Tenant } from '../../lib/tenants/tenant.ts';
import { tenantArgument } from '../context.ts';
import { CliError, usageError } from '../errors.ts';
import { notice, outputOption, printJson, type OutputFormat } from '../output.ts';
import { registerKeys } from './keys.ts';

interface StoreOptions {
  table?: string;
  output: OutputFormat;
}

/** The first relationship of a tenant: whoever presents a matching token administers the tenant. */
const ADMIN_SCOPES = ['trust:admin', 'id-token:issue'] as const;

/**
 * The Cognito issuer the validation refuses as a plain OIDC issuer. Read from the variable the
 * deployment reads, with the deployment's default, so the CLI judges documents as the API does.
 */
const cognitoIssuer = () => (process.env.FEDBROKER_COGNITO_ISSUER ?? 'https://cognito-identity.amazonaws.com').replace(/\/+$/, '');

/**
 * Runs `fn` against the trust store in DynamoDB with the operator's own AWS credentials (SDK
 * default chain; AWS_ENDPOINT_URL_DYNAMODB is honoured by the SDK itself). The AWS modules are
 * imported here, not at the top, so the `auth` commands never pay for initialising them.
 */
async function withStore<T>(opts: StoreOptions, local: boolean, fn: (deps: AdminDeps, audit: TenantAudit) => Promise<T>): Promise<T> {
  if (!opts.table) throw usageError('name the DynamoDB table with --table or FEDBROKER_TABLE');
  const [{ Table }, { DynamoTrustStore }] = await Promise.all([
    import('../../lib/aws/dynamo-table.ts'),
    import('../../lib/aws/dynamo-trust-store.ts'),
  ]);
  const table = new Table(opts.table);
  try {
    return await fn(
      { store: new DynamoTrustStore(table), clock: systemClock, local, cognitoIssuer: cognitoIssuer() },
      await tenantAudit(table),
    );
  } finally {
    table.doc.destroy();
  }
}

/** Records one tenant change in the audit trail (after it was made); never fails the command. */
type TenantAudit = (
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

/** FEDBROKER_AUDIT_RETENTION_DAYS as the deployment reads it (default 90). */
function retentionDays(): number {
  const days = Number(process.env.FEDBROKER_AUDIT_RETENTION_DAYS ?? 90);
  return Number.isInteger(days) && days >= 1 && days <= 3650 ? days : 90;
}

/**
 * The audit trail the deployment writes, written from here because tenant changes never pass
 * through the API. The actor is the local user name (CloudTrail holds the AWS identity that
 * made the write); a record that cannot be stored is reported, the change stands.
 */
async function tenantAudit(table: import('../../lib/aws/dynamo-table.ts').Table): Promise<TenantAudit> {
  const [{ AuditTrail }, { DynamoAuditLog }, { tableSink }] = await Promise.all([
    import('../../lib/audit/trail.ts'),
    import('../../lib/aws/dynamo-audit-log.ts'),
    import('../../lib/audit/sinks.ts'),
  ]);
  const trail = new AuditTrail({ sink: tableSink(new DynamoAuditLog(table)), clock: systemClock, retentionDays: retentionDays() });
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

interface CreateTenantOptions extends StoreOptions {
  name?: string;
  adminIssuer: string;
  adminAudience: string;
  adminCondition?: string;
  adminSubjectTemplate?: string;
  local?: boolean;
}

function parseConditions(text: string | undefined): Record<string, unknown> {
  if (text === undefined) return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw usageError(`--admin-condition is not valid JSON: ${(e as Error).message}`);
  }
  const issue = jsonShapeIssue(text);
  if (issue) throw usageError(describeJsonShapeIssue('--admin-condition', issue));
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw usageError('--admin-condition must be a JSON object, e.g. {"StringEquals":{"sub":"…"}}');
  return value as Record<string, unknown>;
}

async function createTenantCommand(tenant: string, opts: CreateTenantOptions): Promise<void> {
  const local = opts.local === true;
  const document = {
    kind: 'oidc',
    id: 'admin',
    issuer: opts.adminIssuer,
    audiences: [opts.adminAudience],
    conditions: parseConditions(opts.adminCondition),
    scopes: [...ADMIN_SCOPES],
    ...(opts.adminSubjectTemplate !== undefined ? { subject_template: opts.adminSubjectTemplate } : {}),
  };
  // Validated before anything is written, so a bad issuer or condition leaves no tenant behind.
  validateRelationship(document, { local, cognitoIssuer: cognitoIssuer() });
  const { created, relationship } = await withStore(opts, local, async (deps, audit) => {
    const created: Tenant = await createTenant(deps, { id: tenant, name: opts.name });
    await audit('tenant.create', tenant);
    try {
      const relationship = await relationships.create(deps, tenant, document);
      await audit('trust_relationship.create', tenant, relationship.id);
      return { created, relationship };
    } catch (e) {
      const reason = e instanceof Error ? e.message : 'unknown error';
      throw new CliError('partial_failure', `tenant ${tenant} was created but its admin trust relationship was not: ${reason}`);
    }
  });
  if (opts.output === 'json') return printJson({ tenant: created, relationship });
  notice(`created tenant ${created.id} (${JSON.stringify(created.name)}, ${created.status})`);
  notice(
    `created trust relationship ${relationship.id}: issuer ${opts.adminIssuer}, audience ${opts.adminAudience}, scopes ${relationship.scopes.join(' ')}`,
  );
  notice(`next: fedbroker auth exchange-oidc-token --tenant ${created.id} --token-file <token from ${opts.adminIssuer}>`);
}

async function setStatusCommand(tenant: string, status: Tenant['status'], opts: StoreOptions): Promise<void> {
  await withStore(opts, false, async (deps, audit) => {
    await setTenantStatus(deps, tenant, status);
    await audit(status === 'active' ? 'tenant.enable' : 'tenant.disable', tenant);
  });
  if (opts.output === 'json') return printJson({ tenant, status });
  notice(
    `tenant ${tenant} is ${status === 'active' ? 'enabled' : 'disabled'} (running broker instances notice within their tenant cache time)`,
  );
}

async function allowPoolCommand(tenant: string, pool: string, opts: StoreOptions & { roleArn?: string }): Promise<void> {
  await withStore(opts, false, async (deps, audit) => {
    await allowIdentityPool(deps, tenant, pool, opts.roleArn);
    await audit('tenant.allow_resource', tenant, pool);
    if (opts.roleArn) await audit('tenant.allow_resource', tenant, opts.roleArn);
  });
  if (opts.output === 'json') return printJson({ tenant, identity_pool_id: pool, ...(opts.roleArn ? { role_arn: opts.roleArn } : {}) });
  notice(
    `tenant ${tenant} may now use identity pool ${pool}${opts.roleArn ? ' through that role (assumed with ExternalId ' + tenant + ')' : ''}; no other tenant can be allowed it`,
  );
  notice(`next, a tenant admin adds it: fedbroker auth cognito-identity-pools add --file pool.json`);
}

async function disallowCommand(tenant: string, kind: 'POOL' | 'ROLE', resource: string, opts: StoreOptions): Promise<void> {
  await withStore(opts, false, async (deps, audit) => {
    await disallow(deps, tenant, kind, resource);
    await audit('tenant.disallow_resource', tenant, resource);
  });
  if (opts.output === 'json') return printJson({ tenant, disallowed: resource });
  notice(
    `tenant ${tenant} may no longer use ${kind === 'POOL' ? 'identity pool' : 'role'} ${resource} (running broker instances stop within their tenant cache time)`,
  );
}

const tableOption = () => new Option('--table <name>', 'the broker’s DynamoDB table').env('FEDBROKER_TABLE');

/** `fedbroker admin …`: operator bootstrap, straight to DynamoDB with the operator's AWS credentials. */
export function registerAdmin(program: Command): void {
  const admin = program.command('admin').description('operator commands: write tenants to DynamoDB directly with your AWS credentials');

  admin
    .command('create-tenant')
    .description('create a tenant and its first trust relationship ("admin", scopes trust:admin and id-token:issue)')
    .argument('<tenant>', 'tenant id: 3-63 lower-case letters, digits and dashes', tenantArgument)
    .option('--name <name>', 'display name (default: the id)')
    .requiredOption('--admin-issuer <url>', 'issuer of the tokens that administer the tenant')
    .requiredOption('--admin-audience <aud>', 'audience those tokens carry')
    .option('--admin-condition <json>', 'IAM condition block over their claims, e.g. {"StringEquals":{"sub":"…"}}')
    .option('--admin-subject-template <template>', 'subject template of the admin relationship')
    .option('--local', 'allow an http://localhost issuer (local development)')
    .addOption(tableOption())
    .addOption(outputOption(['plain', 'json'], 'plain'))
    .action(createTenantCommand);

  for (const [name, status] of [
    ['disable-tenant', 'disabled'],
    ['enable-tenant', 'active'],
  ] as const) {
    admin
      .command(name)
      .description(
        status === 'disabled' ? 'disable a tenant: it can exchange nothing, and its tokens stop working' : 're-enable a disabled tenant',
      )
      .argument('<tenant>', 'tenant id', tenantArgument)
      .addOption(tableOption())
      .addOption(outputOption(['plain', 'json'], 'plain'))
      .action((tenant: string, opts: StoreOptions) => setStatusCommand(tenant, status, opts));
  }

  admin
    .command('allow-identity-pool')
    .description(
      'allow a tenant to vend into an identity pool (and reach it through a role in another account); no other tenant can then be allowed it',
    )
    .argument('<tenant>', 'tenant id', tenantArgument)
    .argument('<identity-pool>', 'identity pool id, <region>:<guid>')
    .option('--role-arn <arn>', 'role fedbroker assumes (ExternalId = the tenant id) to reach a pool in another account')
    .addOption(tableOption())
    .addOption(outputOption(['plain', 'json'], 'plain'))
    .action(allowPoolCommand);
  for (const [name, kind, what] of [
    ['disallow-identity-pool', 'POOL', '<identity-pool>'],
    ['disallow-role', 'ROLE', '<role-arn>'],
  ] as const) {
    admin
      .command(name)
      .description(`withdraw ${kind === 'POOL' ? 'an identity pool' : 'a role'} from a tenant and free it for another`)
      .argument('<tenant>', 'tenant id', tenantArgument)
      .argument(what, kind === 'POOL' ? 'identity pool id' : 'IAM role ARN')
      .addOption(tableOption())
      .addOption(outputOption(['plain', 'json'], 'plain'))
      .action((tenant: string, resource: string, opts: StoreOptions) => disallowCommand(tenant, kind, resource, opts));
  }

  registerKeys(admin);
}

import type { Command } from 'commander';
import { createTenant, relationships } from '../../../lib/app/documents.ts';
import { describeJsonShapeIssue, jsonShapeIssue } from '../../../lib/json-shape.ts';
import type { Tenant } from '../../../lib/tenants/tenant.ts';
import { validateRelationship } from '../../../lib/trust/validate.ts';
import { tenantArgument } from '../../context.ts';
import { CliError, usageError } from '../../errors.ts';
import { tableOption } from '../../options.ts';
import { notice, outputOption, printJson } from '../../output.ts';
import { adminConfig, type StoreOptions, withStore } from './store.ts';

/** The first relationship of a tenant: whoever presents a matching token administers the tenant. */
const ADMIN_SCOPES = ['trust:admin', 'id-token:issue'] as const;

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
  const config = adminConfig(opts);
  // A local run (FEDBROKER_LOCAL=true) admits http://localhost issuers as its API does.
  const local = opts.local === true || config.local;
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
  validateRelationship(document, { local, cognitoIssuer: config.cognito.issuer });
  const { created, relationship } = await withStore(config, local, async (deps, audit) => {
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
    `created trust relationship ${relationship.id}: issuer ${opts.adminIssuer}, ` +
      `audience ${opts.adminAudience}, scopes ${relationship.scopes.join(' ')}`,
  );
  notice(`next: fedbroker auth exchange-oidc-token --tenant ${created.id} --token-file <token from ${opts.adminIssuer}>`);
}

/** `fedbroker admin create-tenant`. */
export function registerCreateTenant(admin: Command): void {
  admin
    .command('create-tenant')
    .description('create a tenant and its first trust relationship ("admin", scopes trust:admin and id-token:issue)')
    .argument('<tenant>', 'tenant id: 3-63 lower-case letters, digits and dashes', tenantArgument)
    .option('--name <name>', 'display name (default: the id)')
    .requiredOption('--admin-issuer <url>', 'issuer of the tokens that administer the tenant')
    .requiredOption('--admin-audience <aud>', 'audience those tokens carry')
    .option('--admin-condition <json>', 'IAM condition block over their claims, e.g. {"StringEquals":{"sub":"…"}}')
    .option('--admin-subject-template <template>', 'subject template of the admin relationship')
    .option('--local', 'allow an http://localhost issuer (local development; implied against a local run)')
    .addOption(tableOption())
    .addOption(outputOption(['plain', 'json'], 'plain'))
    .action(createTenantCommand);
}

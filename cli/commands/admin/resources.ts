import type { Command } from 'commander';
import { allowIdentityPool, disallow } from '../../../lib/app/ownership.ts';
import { tenantArgument } from '../../context.ts';
import { tableOption } from '../../options.ts';
import { notice, outputOption, printJson } from '../../output.ts';
import { adminConfig, type StoreOptions, withStore } from './store.ts';

async function allowPoolCommand(tenant: string, pool: string, opts: StoreOptions & { roleArn?: string }): Promise<void> {
  await withStore(adminConfig(opts), false, async (deps, audit) => {
    await allowIdentityPool(deps, tenant, pool, opts.roleArn);
    await audit('tenant.allow_resource', tenant, pool);
    if (opts.roleArn) await audit('tenant.allow_resource', tenant, opts.roleArn);
  });
  if (opts.output === 'json') return printJson({ tenant, identity_pool_id: pool, ...(opts.roleArn ? { role_arn: opts.roleArn } : {}) });
  notice(
    `tenant ${tenant} may now use identity pool ${pool}` +
      (opts.roleArn ? ` through that role (assumed with ExternalId ${tenant})` : '') +
      '; no other tenant can be allowed it',
  );
  notice(`next, a tenant admin adds it: fedbroker auth cognito-identity-pools add --file pool.json`);
}

async function disallowCommand(tenant: string, kind: 'POOL' | 'ROLE', resource: string, opts: StoreOptions): Promise<void> {
  await withStore(adminConfig(opts), false, async (deps, audit) => {
    await disallow(deps, tenant, kind, resource);
    await audit('tenant.disallow_resource', tenant, resource);
  });
  if (opts.output === 'json') return printJson({ tenant, disallowed: resource });
  notice(
    `tenant ${tenant} may no longer use ${kind === 'POOL' ? 'identity pool' : 'role'} ${resource} ` +
      `(running broker instances stop within their tenant cache time)`,
  );
}

/** `fedbroker admin allow-identity-pool`, `disallow-identity-pool` and `disallow-role`: who owns which AWS resource. */
export function registerResources(admin: Command): void {
  admin
    .command('allow-identity-pool')
    .description(
      'allow a tenant to vend into an identity pool (and reach it through a role in another account); ' +
        'no other tenant can then be allowed it',
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
}

import type { Command } from 'commander';
import { setTenantStatus } from '../../../lib/app/documents.ts';
import type { Tenant } from '../../../lib/tenants/tenant.ts';
import { tenantArgument } from '../../context.ts';
import { tableOption } from '../../options.ts';
import { notice, outputOption, printJson } from '../../output.ts';
import { adminConfig, type StoreOptions, withStore } from './store.ts';

async function setStatusCommand(tenant: string, status: Tenant['status'], opts: StoreOptions): Promise<void> {
  await withStore(adminConfig(opts), false, async (deps, audit) => {
    await setTenantStatus(deps, tenant, status);
    await audit(status === 'active' ? 'tenant.enable' : 'tenant.disable', tenant);
  });
  if (opts.output === 'json') return printJson({ tenant, status });
  notice(
    `tenant ${tenant} is ${status === 'active' ? 'enabled' : 'disabled'} (running broker instances notice within their tenant cache time)`,
  );
}

/** `fedbroker admin disable-tenant` and `admin enable-tenant`. */
export function registerTenantStatus(admin: Command): void {
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
}

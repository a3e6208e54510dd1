import type { Command } from 'commander';
import { registerCreateTenant } from './create-tenant.ts';
import { registerResources } from './resources.ts';
import { registerRevokeKey } from './revoke-key.ts';
import { registerRotateKeys } from './rotate-keys.ts';
import { registerTenantStatus } from './tenant-status.ts';

/**
 * `fedbroker admin …`: operator bootstrap, straight to DynamoDB (and KMS) with the operator's AWS
 * credentials, configured by the deployment's variables read through lib/config.ts — or, with none
 * set, against the local run `npm start` recorded.
 */
export function registerAdmin(program: Command): void {
  const admin = program.command('admin').description('operator commands: write tenants to DynamoDB directly with your AWS credentials');
  registerCreateTenant(admin);
  registerTenantStatus(admin);
  registerResources(admin);
  registerRotateKeys(admin);
  registerRevokeKey(admin);
}

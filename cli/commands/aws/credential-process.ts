import type { Command } from 'commander';
import { credentialProcessJson } from '../../aws-credentials.ts';
import { type RoleOptions, roleCredentials, roleOptions } from './role.ts';

/** Nothing but the JSON on stdout: the SDKs parse it, and fail on anything else. */
async function credentialProcess(opts: RoleOptions, cmd: Command): Promise<void> {
  const { credentials } = await roleCredentials(cmd, opts);
  process.stdout.write(credentialProcessJson(credentials));
}

/** `fedbroker aws credential-process`. */
export function registerCredentialProcess(aws: Command): void {
  roleOptions(aws.command('credential-process'))
    .description('print role credentials as credential_process JSON (for credential_process in ~/.aws/config)')
    .action(credentialProcess);
}

import type { Command } from 'commander';
import { credentialExports, isoSeconds, profileArgument, writeEnvFile, writeProfile } from '../../aws-credentials.ts';
import { usageError } from '../../errors.ts';
import { notice } from '../../output.ts';
import { type RoleOptions, roleCredentials, roleOptions } from './role.ts';

interface AssumeRoleOptions extends RoleOptions {
  writeEnv?: string;
  profile?: string;
}

async function assumeRole(opts: AssumeRoleOptions, cmd: Command): Promise<void> {
  if (opts.writeEnv !== undefined && opts.profile !== undefined) throw usageError('give at most one of --write-env and --profile');
  const { credentials, sessionName } = await roleCredentials(cmd, opts);
  const summary = `credentials for ${opts.roleArn} (session ${sessionName}), valid until ${isoSeconds(credentials.expiration)}`;
  if (opts.profile !== undefined) {
    const path = await writeProfile(opts.profile, credentials);
    return notice(`wrote profile ${opts.profile} to ${path}: ${summary}`);
  }
  if (opts.writeEnv !== undefined) {
    await writeEnvFile(opts.writeEnv, credentialExports(credentials));
    return notice(`wrote ${opts.writeEnv} (load it with: . ${opts.writeEnv}): ${summary}`);
  }
  process.stdout.write(credentialExports(credentials));
  notice(summary);
}

/** `fedbroker aws assume-role`. */
export function registerAssumeRole(aws: Command): void {
  roleOptions(aws.command('assume-role'))
    .description('assume an IAM role with an ID token for sts.amazonaws.com; print export lines, or write them to a file or a profile')
    .option('--write-env <file>', 'write the export lines to this file (0600) instead of stdout')
    .option(
      '--profile <name>',
      'write the credentials as this profile of the shared credentials file (AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials)',
      profileArgument,
    )
    .action(assumeRole);
}

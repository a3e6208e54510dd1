import { type Command, Option } from 'commander';
import { type AwsCredentials, defaultSessionName, sessionNameArgument } from '../../aws-credentials.ts';
import { storedTokenFor } from '../../context.ts';
import { assumeRoleWithWebIdentity, issueStsIdToken, roleArnArgument, sessionDurationOption } from '../../sts.ts';

/** What `aws assume-role` and `aws credential-process` share. */
export interface RoleOptions {
  roleArn: string;
  duration: number;
  sessionName?: string;
}

const ONE_HOUR = 3600;

/**
 * Role credentials for the stored token's principal: an ID token for sts.amazonaws.com for the
 * session's duration — so the trust relationship's max_duration_seconds also bounds the AWS
 * session — traded at STS with AssumeRoleWithWebIdentity.
 */
export async function roleCredentials(cmd: Command, opts: RoleOptions): Promise<{ credentials: AwsCredentials; sessionName: string }> {
  const stored = await storedTokenFor(cmd);
  const id = await issueStsIdToken(stored, opts.duration);
  const sessionName = opts.sessionName ?? defaultSessionName(stored.tenant, stored.sub);
  const credentials = await assumeRoleWithWebIdentity({ roleArn: opts.roleArn, sessionName, durationSeconds: opts.duration, id });
  return { credentials, sessionName };
}

/** `--role-arn`, `--duration` (an STS session length) and `--session-name`. */
export function roleOptions(c: Command): Command {
  return c
    .requiredOption('--role-arn <arn>', 'the IAM role to assume (its trust policy must trust the broker as OIDC provider)', roleArnArgument)
    .addOption(
      new Option('--duration <duration>', 'session length, 15m to 12h; the ID token is issued for as long')
        .argParser(sessionDurationOption)
        .default(ONE_HOUR, '1h'),
    )
    .option('--session-name <name>', 'RoleSessionName (default: fedbroker.<tenant>.<principal>.<hash>)', sessionNameArgument);
}

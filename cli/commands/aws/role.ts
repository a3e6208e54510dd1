import { type Command, Option } from 'commander';
import { type AwsCredentials, defaultSessionName, sessionNameArgument } from '../../aws-credentials.ts';
import { endpointOf, storedTokenFor, tenantArgument } from '../../context.ts';
import { usageError } from '../../errors.ts';
import { certificateOptions, certificateSession, storedFrom } from '../../x509.ts';
import { assumeRoleWithWebIdentity, issueStsIdToken, roleArnArgument, sessionDurationOption } from '../../sts.ts';

/** What `aws assume-role` and `aws credential-process` share. */
export interface RoleOptions {
  roleArn: string;
  duration: number;
  sessionName?: string;
  /** With a certificate (docs/x509.md): no stored token is read or written. */
  certificate?: string;
  privateKey?: string;
  intermediates?: string;
  tenant?: string;
}

/** An access token for a certificate, held in memory only: certificate → fedbroker → (ID token → STS). */
async function certificateToken(cmd: Command, opts: RoleOptions) {
  if (!opts.privateKey || !opts.tenant) throw usageError('--certificate needs --private-key and --tenant');
  const { endpoint } = endpointOf(cmd);
  const response = await certificateSession(
    endpoint,
    opts.tenant,
    { certificate: opts.certificate, privateKey: opts.privateKey, intermediates: opts.intermediates },
    {},
  );
  return storedFrom(endpoint, opts.tenant, response);
}

/** `--certificate`, `--private-key`, `--intermediates`, `--tenant`: role credentials from a certificate. */
export function certificateRoleOptions(c: Command): Command {
  return certificateOptions(c).option('--tenant <tenant>', 'with --certificate: the tenant whose trust anchors admit it', tenantArgument);
}

const ONE_HOUR = 3600;

/**
 * Role credentials for the stored token's principal: an ID token for sts.amazonaws.com for the
 * session's duration — so the trust relationship's max_duration_seconds also bounds the AWS
 * session — traded at STS with AssumeRoleWithWebIdentity.
 */
export async function roleCredentials(cmd: Command, opts: RoleOptions): Promise<{ credentials: AwsCredentials; sessionName: string }> {
  const stored = opts.certificate ? await certificateToken(cmd, opts) : await storedTokenFor(cmd);
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

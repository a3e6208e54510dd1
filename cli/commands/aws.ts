import { Option, type Command } from 'commander';
import {
  credentialExports,
  credentialProcessJson,
  defaultSessionName,
  isoSeconds,
  profileArgument,
  sessionNameArgument,
  writeEnvFile,
  writeProfile,
  type AwsCredentials,
} from '../aws-credentials.ts';
import { endpointOf, storedTokenFor, tenantArgument } from '../context.ts';
import { certificateSession } from '../x509.ts';
import { certificateOptions, storedFrom } from './x509.ts';
import { usageError } from '../errors.ts';
import { notice } from '../output.ts';
import { assumeRoleWithWebIdentity, issueStsIdToken, roleArnArgument, sessionDurationOption } from '../sts.ts';
import { registerCognitoCredentials } from './cognito.ts';
import { registerWebIdentity } from './web-identity.ts';

interface RoleOptions {
  roleArn: string;
  duration: number;
  sessionName?: string;
  /** credential-process with a certificate (docs/x509.md): no stored token is read or written. */
  certificate?: string;
  privateKey?: string;
  intermediates?: string;
  tenant?: string;
}

interface AssumeRoleOptions extends RoleOptions {
  writeEnv?: string;
  profile?: string;
}

const ONE_HOUR = 3600;

/**
 * Role credentials for the stored token's principal: an ID token for sts.amazonaws.com for the
 * session's duration — so the trust relationship's max_duration_seconds also bounds the AWS
 * session — traded at STS with AssumeRoleWithWebIdentity.
 */
async function roleCredentials(cmd: Command, opts: RoleOptions): Promise<{ credentials: AwsCredentials; sessionName: string }> {
  const stored = opts.certificate ? await certificateToken(cmd, opts) : await storedTokenFor(cmd);
  const id = await issueStsIdToken(stored, opts.duration);
  const sessionName = opts.sessionName ?? defaultSessionName(stored.tenant, stored.sub);
  const credentials = await assumeRoleWithWebIdentity({ roleArn: opts.roleArn, sessionName, durationSeconds: opts.duration, id });
  return { credentials, sessionName };
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

/** An access token for a certificate, held in memory only: certificate → fedbroker → (ID token → STS). */
async function certificateToken(cmd: Command, opts: RoleOptions) {
  if (!opts.privateKey || !opts.tenant) throw usageError('--certificate needs --private-key and --tenant');
  const { endpoint } = endpointOf(cmd);
  const response = await certificateSession(
    endpoint,
    opts.tenant,
    { certificate: opts.certificate as string, privateKey: opts.privateKey, intermediates: opts.intermediates },
    {},
  );
  return storedFrom(endpoint, opts.tenant, response);
}

/** Nothing but the JSON on stdout: the SDKs parse it, and fail on anything else. */
async function credentialProcess(opts: RoleOptions, cmd: Command): Promise<void> {
  const { credentials } = await roleCredentials(cmd, opts);
  process.stdout.write(credentialProcessJson(credentials));
}

function roleOptions(c: Command): Command {
  return c
    .requiredOption('--role-arn <arn>', 'the IAM role to assume (its trust policy must trust the broker as OIDC provider)', roleArnArgument)
    .addOption(
      new Option('--duration <duration>', 'session length, 15m to 12h; the ID token is issued for as long')
        .argParser(sessionDurationOption)
        .default(ONE_HOUR, '1h'),
    )
    .option('--session-name <name>', 'RoleSessionName (default: fedbroker.<tenant>.<principal>.<hash>)', sessionNameArgument);
}

/** `fedbroker aws …`: AWS credentials from the stored fedbroker access token. */
export function registerAws(program: Command): void {
  const aws = program
    .command('aws')
    .description('get AWS credentials with the stored access token (STS web identity, Cognito identity pools)');

  roleOptions(aws.command('assume-role'))
    .description('assume an IAM role with an ID token for sts.amazonaws.com; print export lines, or write them to a file or a profile')
    .option('--write-env <file>', 'write the export lines to this file (0600) instead of stdout')
    .option(
      '--profile <name>',
      'write the credentials as this profile of the shared credentials file (AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials)',
      profileArgument,
    )
    .action(assumeRole);

  certificateOptions(roleOptions(aws.command('credential-process')))
    .option('--tenant <tenant>', 'with --certificate: the tenant whose trust anchors admit it', tenantArgument)
    .description(
      'print role credentials as credential_process JSON (for credential_process in ~/.aws/config); with --certificate, from a certificate instead of the stored token',
    )
    .action(credentialProcess);

  registerWebIdentity(aws);
  registerCognitoCredentials(aws);
}

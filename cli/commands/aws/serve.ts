import { resolve } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { defaultSessionName, exportLines, sessionNameArgument, type AwsCredentials } from '../../aws-credentials.ts';
import { notice } from '../../output.ts';
import { CREDENTIALS_PATH, startContainerServer } from '../../outputs/container-credentials.ts';
import { storedTokenSource } from '../../outputs/stored-token.ts';
import { loopOptions, refreshUntilStopped, until, type LoopOptions } from '../../outputs/keep-fresh-loop.ts';
import { writePrivateFile } from '../../private-file.ts';
import type { Lifetime } from '../../refresh.ts';
import { assumeRoleWithWebIdentity, issueStsIdToken, roleArnArgument, sessionDurationOption } from '../../sts.ts';

interface ServeOptions extends LoopOptions {
  roleArn: string;
  duration: number;
  sessionName?: string;
  port: number;
  imds?: boolean;
  authorizationTokenFile?: string;
}

/** aws_signing_helper serve's default port, so the two are interchangeable in a container's setup. */
const DEFAULT_PORT = 9911;

function portArgument(text: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65_535) throw new InvalidArgumentError('a port from 0 (any free port) to 65535');
  return Number(text);
}

/**
 * `aws serve`: the container-credentials endpoint (AWS SDKs and Tools reference guide, "Container
 * credential provider": AWS_CONTAINER_CREDENTIALS_FULL_URI + AWS_CONTAINER_AUTHORIZATION_TOKEN),
 * on loopback, with role credentials assumed through the broker and renewed at 80% of their life,
 * each time with a fresh ID token from the stored access token.
 */
async function serve(opts: ServeOptions, cmd: Command): Promise<void> {
  const current = await storedTokenSource(cmd, true);
  const stored = await current();
  const sessionName = opts.sessionName ?? defaultSessionName(stored.tenant, stored.sub);
  const roleName = opts.roleArn.slice(opts.roleArn.lastIndexOf('/') + 1);
  let held: AwsCredentials | undefined;
  const assume = async (): Promise<Lifetime> => {
    const id = await issueStsIdToken(await current(), opts.duration);
    const issuedAt = Date.now();
    held = await assumeRoleWithWebIdentity({ roleArn: opts.roleArn, sessionName, durationSeconds: opts.duration, id });
    return { issuedAt, expiresAt: held.expiration.getTime() };
  };
  const first = await assume();
  const server = await startContainerServer({ source: { current: () => held }, port: opts.port, imds: opts.imds ?? false, roleName });
  const vars: [string, string][] = [['AWS_CONTAINER_CREDENTIALS_FULL_URI', `${server.url}${CREDENTIALS_PATH}`]];
  if (opts.authorizationTokenFile !== undefined) {
    const path = resolve(opts.authorizationTokenFile);
    await writePrivateFile(path, server.token);
    vars.push(['AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE', path]);
  } else {
    vars.push(['AWS_CONTAINER_AUTHORIZATION_TOKEN', server.token]);
  }
  if (opts.imds) vars.push(['AWS_EC2_METADATA_SERVICE_ENDPOINT', `${server.url}/`]);
  process.stdout.write(exportLines(vars));
  // The role's name only: the ARN carries the account id, which stays out of logs.
  notice(`serving credentials for role ${roleName} on ${server.url}${opts.imds ? ' (and IMDSv2)' : ''}, valid until ${until(first)}`);
  try {
    await refreshUntilStopped(`credentials for role ${roleName}`, first, assume, opts);
  } finally {
    await server.close();
  }
  notice('stopped');
}

export function registerServe(aws: Command): void {
  loopOptions(
    aws
      .command('serve')
      .description(
        'serve role credentials on 127.0.0.1 for the SDKs and the AWS CLI ' +
          '(AWS_CONTAINER_CREDENTIALS_FULL_URI + AWS_CONTAINER_AUTHORIZATION_TOKEN), renewed before they expire',
      )
      .requiredOption(
        '--role-arn <arn>',
        'the IAM role to assume (its trust policy must trust the broker as OIDC provider)',
        roleArnArgument,
      )
      .addOption(
        new Option('--duration <duration>', 'session length, 15m to 12h; renewed at 80% of it')
          .argParser(sessionDurationOption)
          .default(3600, '1h'),
      )
      .option('--session-name <name>', 'RoleSessionName (default: fedbroker.<tenant>.<principal>.<hash>)', sessionNameArgument)
      .addOption(new Option('--port <port>', 'port on 127.0.0.1 (0: any free port)').argParser(portArgument).default(DEFAULT_PORT))
      .option(
        '--imds',
        'also answer as IMDSv2 (PUT /latest/api/token, then GET): for tools without container-credentials support; ' +
          'weaker, any local process can get a session token',
      )
      .option(
        '--authorization-token-file <file>',
        'write the token to this file (0600) and print AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE instead of the token itself',
      ),
    'keep serving',
  ).action(serve);
}

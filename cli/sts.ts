import { InvalidArgumentError } from 'commander';
import { TOKEN_TYPE } from '../lib/tokens/types.ts';
import { completeCredentials, type AwsCredentials } from './aws-credentials.ts';
import { AWS_CLIENT_DEFAULTS, awsErrorCode, awsFailure, serviceErrorName } from './aws-sdk.ts';
import { parseDuration } from './duration.ts';
import { CliError } from './errors.ts';
import { exchangeToken } from './http.ts';
import { decodeUnverified } from './output.ts';
import type { StoredToken } from './token-file.ts';

export const STS_AUDIENCE = 'sts.amazonaws.com';

/** An ID token for STS and what the commands need to know about it (read from the token, unverified). */
export interface StsIdToken {
  token: string;
  issuer: string;
  subject: string;
  /** Epoch milliseconds. */
  issuedAt: number;
  expiresAt: number;
}

const ROLE_ARN = /^arn:aws(?:-[a-z]+)*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;

export function roleArnArgument(text: string): string {
  if (!ROLE_ARN.test(text)) throw new InvalidArgumentError('expected an IAM role ARN, e.g. arn:aws:iam::111122223333:role/deploy');
  return text;
}

/** `--duration` for an STS session: AssumeRoleWithWebIdentity accepts 15 min to 12 h. */
export function sessionDurationOption(text: string): number {
  let seconds: number;
  try {
    seconds = parseDuration(text);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
  if (seconds < 900 || seconds > 43200) throw new InvalidArgumentError('an AWS session lasts 15m to 12h');
  return seconds;
}

/** Issues an ID token for sts.amazonaws.com with the stored access token (needs scope id-token:issue). */
export async function issueStsIdToken(stored: StoredToken, durationSeconds: number | undefined): Promise<StsIdToken> {
  const response = await exchangeToken(stored.endpoint, {
    subject_token: stored.access_token,
    subject_token_type: TOKEN_TYPE.accessToken,
    requested_token_type: TOKEN_TYPE.idToken,
    audience: STS_AUDIENCE,
    duration_seconds: durationSeconds?.toString(),
  });
  const claims = decodeUnverified(response.access_token).payload;
  const now = Date.now();
  return {
    token: response.access_token,
    issuer: typeof claims.iss === 'string' ? claims.iss : stored.endpoint,
    subject: typeof claims.sub === 'string' ? claims.sub : stored.sub,
    issuedAt: typeof claims.iat === 'number' ? claims.iat * 1000 : now,
    expiresAt: typeof claims.exp === 'number' ? claims.exp * 1000 : now + response.expires_in * 1000,
  };
}

/** Region of the STS endpoint: AWS_REGION, else us-east-1 (STS is global; regional endpoints are nearer). */
export const stsRegion = () => process.env.AWS_REGION || 'us-east-1';

/**
 * What to tell the user when STS refuses, per AWS error code. The token is never part of it
 * (only the subject and issuer read from it), so a refusal can be pasted into a ticket.
 */
function hint(code: string, role: string, id: StsIdToken): string {
  const host = id.issuer.replace(/^https?:\/\//, '').replace(/\/+$/, '');
  switch (code) {
    case 'AccessDenied':
      return (
        `STS refused to let ${id.subject} assume ${role}: check the role's trust policy (Federated oidc-provider/${host}, ` +
        `"${host}:aud" = "${STS_AUDIENCE}", "${host}:sub" matching "${id.subject}", and sts:TagSession when the token carries session tags)`
      );
    case 'InvalidIdentityTokenException':
    case 'InvalidIdentityToken':
      return (
        `STS did not accept the ID token of ${id.subject} for ${role} ` +
        `(is ${id.issuer} registered as an IAM OIDC provider with client id ${STS_AUDIENCE}?)`
      );
    case 'ExpiredTokenException':
    case 'ExpiredToken':
      return `STS found the ID token for ${role} expired (check this machine's clock)`;
    case 'IDPRejectedClaimException':
    case 'IDPRejectedClaim':
      return `STS rejected a claim of the ID token of ${id.subject} for ${role}`;
    case 'IDPCommunicationErrorException':
    case 'IDPCommunicationError':
      return `STS could not fetch the signing keys of ${id.issuer} to verify the token for ${role}; retry later`;
    default:
      return `STS refused AssumeRoleWithWebIdentity for ${role}`;
  }
}

/**
 * Trades the ID token for role credentials. The call is unsigned (the SDK models it with no
 * auth), so no AWS credentials are needed or looked up — which also keeps a `credential_process`
 * profile from calling this CLI again.
 */
export async function assumeRoleWithWebIdentity(input: {
  roleArn: string;
  sessionName: string;
  durationSeconds?: number;
  id: StsIdToken;
}): Promise<AwsCredentials> {
  const { STSClient, AssumeRoleWithWebIdentityCommand } = await import('@aws-sdk/client-sts');
  const client = new STSClient({ region: stsRegion(), ...AWS_CLIENT_DEFAULTS });
  try {
    const out = await client.send(
      new AssumeRoleWithWebIdentityCommand({
        RoleArn: input.roleArn,
        RoleSessionName: input.sessionName,
        WebIdentityToken: input.id.token,
        DurationSeconds: input.durationSeconds,
      }),
    );
    return completeCredentials(out.Credentials ?? {}, 'STS');
  } catch (e) {
    const name = serviceErrorName(e);
    if (name === undefined) throw awsFailure(e, `STS AssumeRoleWithWebIdentity for ${input.roleArn}`);
    throw new CliError(awsErrorCode(name), `${hint(name, input.roleArn, input.id)}: ${name}: ${(e as Error).message}`);
  } finally {
    client.destroy();
  }
}

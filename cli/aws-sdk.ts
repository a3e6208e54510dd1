import { CliError } from './errors.ts';

/**
 * Settings for the AWS clients the CLI creates (STS, Cognito Identity, and through the lib
 * DynamoDB and KMS). Endpoints come only from the SDK's standard variables
 * (`AWS_ENDPOINT_URL_STS`, `AWS_ENDPOINT_URL_COGNITO_IDENTITY`, …). The logger is silent: the SDK
 * otherwise prints multi-line warnings (e.g. AWS_PROFILE together with static keys) to stderr,
 * where the CLI promises one line per failure and nothing else.
 */
export const AWS_CLIENT_DEFAULTS = {
  maxAttempts: 3,
  // `throwOnRequestTimeout`: without it @smithy/node-http-handler only logs (here: silently) when
  // `requestTimeout` passes, and a `credential_process` call to an endpoint that accepted the
  // connection and went quiet would hang the job that asked for credentials.
  requestHandler: { connectionTimeout: 3000, requestTimeout: 10_000, throwOnRequestTimeout: true },
  logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {} },
};

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH']);

/** `InvalidIdentityTokenException` → `invalid_identity_token`, `IDPRejectedClaim` → `idp_rejected_claim`. */
export function awsErrorCode(name: string): string {
  return name
    .replace(/Exception$/, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toLowerCase();
}

/** The AWS error code of an SDK service error (`AccessDenied`, `ExpiredTokenException`, …), else undefined. */
export function serviceErrorName(e: unknown): string | undefined {
  const meta = e instanceof Error ? (e as { $metadata?: unknown; $fault?: unknown }) : undefined;
  return meta?.$metadata !== undefined && meta.$fault !== undefined ? (e as Error).name : undefined;
}

/**
 * Any failure of an AWS call as one CLI error. `call` names what was attempted ("STS
 * AssumeRoleWithWebIdentity for role …"), so the line says what failed without a stack. AWS
 * messages name resources, never the tokens that were sent.
 */
export function awsFailure(e: unknown, call: string): CliError {
  if (e instanceof CliError) return e;
  if (!(e instanceof Error)) return new CliError('aws_error', `${call} failed`);
  if (e.name === 'CredentialsProviderError') {
    return new CliError(
      'no_aws_credentials',
      `${call}: no usable AWS credentials (${e.message.split('\n')[0]}); run with the workload's AWS credentials or name a profile`,
    );
  }
  const name = serviceErrorName(e);
  if (name !== undefined) return new CliError(awsErrorCode(name), `${call}: ${name}: ${e.message}`);
  const code = (e as { code?: string }).code ?? (e.cause as { code?: string } | undefined)?.code;
  if ((code && NETWORK_CODES.has(code)) || e.name === 'TimeoutError') {
    return new CliError('network_error', `${call}: cannot reach AWS (${code ?? e.name})`);
  }
  return new CliError('aws_error', `${call}: ${e.message}`);
}

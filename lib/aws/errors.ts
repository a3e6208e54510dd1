import { ServiceUnavailable } from '../errors.ts';
import { describeError, logger } from '../log.ts';

/** AWS error names that mean "try again later" across DynamoDB, KMS, Cognito and STS. */
const TRANSIENT = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'LimitExceededException',
  'InternalServerError',
  'InternalFailure',
  'InternalErrorException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'KMSInternalException',
  'DependencyTimeoutException',
  'KeyUnavailableException',
  'IDPCommunicationError',
  'TimeoutError',
  'RequestTimeout',
]);

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH']);

/** True when the error is throttling, a 5xx, a timeout or a broken connection. */
export function isTransient(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  const meta = e as { $metadata?: { httpStatusCode?: number }; code?: string; $retryable?: unknown };
  if (TRANSIENT.has(e.name)) return true;
  if (meta.$retryable) return true;
  if (meta.code && NETWORK_CODES.has(meta.code)) return true;
  const status = meta.$metadata?.httpStatusCode;
  return status !== undefined && status >= 500;
}

/**
 * Translates an SDK error into a sanitised {@link ServiceUnavailable} (as octo-sts does with
 * `awserr.Sanitize`): the caller learns which service is unavailable and when to retry; the log
 * gets the AWS error name and a redacted message (no ARNs with account ids, no tokens).
 */
export function unavailable(service: string, e: unknown, retryAfterSeconds = 2): ServiceUnavailable {
  logger.warn(`${service} unavailable`, { service, error: describeError(e) });
  return new ServiceUnavailable(`${service} is temporarily unavailable; retry later`, retryAfterSeconds, { cause: e });
}

/**
 * Shared SDK client settings: bounded time per attempt and few attempts, so a request fails fast.
 * `throwOnRequestTimeout`: without it, @smithy/node-http-handler (4.x) only logs a warning when
 * `requestTimeout` passes and the attempt waits on, so an endpoint that accepts the connection and
 * never answers would hold the request until the function timeout. With it, the attempt fails
 * with a retryable `TimeoutError` (in TRANSIENT above: a 503).
 */
export const SDK_DEFAULTS = {
  maxAttempts: 2,
  requestHandler: { connectionTimeout: 1000, requestTimeout: 3000, throwOnRequestTimeout: true },
} as const;

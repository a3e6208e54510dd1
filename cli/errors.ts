import { isFedbrokerError, PolicyInvalid } from '../lib/errors.ts';

/**
 * The CLI's one failure type. `error` is a short machine-readable code (the server's RFC 6749
 * §5.2 `error` when the server refused, else a local one such as `usage_error`); `exitCode` is
 * 1 for failures (refusals, network, missing state) and 2 for usage errors.
 */
export class CliError extends Error {
  readonly error: string;
  readonly exitCode: 1 | 2;
  constructor(error: string, description: string, exitCode: 1 | 2 = 1) {
    super(description);
    this.name = 'CliError';
    this.error = error;
    this.exitCode = exitCode;
  }
}

/** A mistake in how the command was invoked: exit code 2. */
export function usageError(description: string): CliError {
  return new CliError('usage_error', description, 2);
}

/**
 * Any thrown value as a {@link CliError}. Errors from the shared lib keep their RFC 6749 code;
 * for storage faults the AWS error behind them is named, because here the reader is the operator
 * whose credentials or table are at fault. A relationship that fails validation is a usage error.
 */
export function toCliError(e: unknown): CliError {
  if (e instanceof CliError) return e;
  if (isFedbrokerError(e)) {
    const cause = e.cause instanceof Error ? ` (${e.cause.name}: ${e.cause.message})` : '';
    return new CliError(e.oauthError, `${e.message}${e.status >= 500 ? cause : ''}`, e instanceof PolicyInvalid ? 2 : 1);
  }
  return new CliError('internal_error', e instanceof Error ? e.message : String(e));
}

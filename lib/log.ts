import { Logger } from '@aws-lambda-powertools/logger';
import { redact } from './redact.ts';

/** The one logger. Created once per container; handlers add the request id per invocation. */
export const logger = new Logger({ serviceName: 'fedbroker' });

/**
 * A log-safe description of an unknown error: its class and a redacted message, never the
 * stack (stacks are noise to operators and can carry request data).
 */
export function describeError(e: unknown): { name: string; message: string } {
  if (e instanceof Error) return { name: e.name, message: redact(e.message).slice(0, 500) };
  return { name: typeof e, message: '[non-error thrown]' };
}

import { Logger } from '@aws-lambda-powertools/logger';
import { redact } from './redact.ts';

/**
 * The one logger, created once per container. Every function runs on `lambdaBase` (lib/lambda.ts),
 * whose Powertools `injectLambdaContext` adds the invocation's Lambda context to every line the
 * logger writes during it: `function_request_id` (Lambda's request id), `cold_start`, the function's
 * name, ARN and memory. (Audit lines bypass the logger and carry their own `request_id`, lib/audit/sinks.ts.)
 */
export const logger = new Logger({ serviceName: 'fedbroker' });

/**
 * A log-safe description of an unknown error: its class and a redacted message, never the
 * stack (stacks are noise to operators and can carry request data).
 */
export function describeError(e: unknown): { name: string; message: string } {
  if (e instanceof Error) return { name: e.name, message: redact(e.message).slice(0, 500) };
  return { name: typeof e, message: '[non-error thrown]' };
}

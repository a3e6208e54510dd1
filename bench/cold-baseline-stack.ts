// A second cold-start baseline of `npm run bench` (bench/cold.ts), reported as context, no target:
// bench/cold-baseline.ts's handler behind the Lambda stack every fedbroker function is required
// to use (README, "Stack"): a @middy/core handler with Powertools Logger's `injectLambdaContext`,
// writing one log line per request. Still nothing of fedbroker. The baseline leaves this
// stack out, so the ratio to this one shows how much of a function's cold start the fixed stack
// accounts for and how much fedbroker's own code does.
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { handler as raw } from './cold-baseline.ts';

const logger = new Logger({ serviceName: 'baseline' });

export const handler = middy(async (event: { calls?: Record<string, number> }) => {
  const res = await raw(event);
  logger.info('served', { status: res.statusCode });
  return res;
}).use(injectLambdaContext(logger));

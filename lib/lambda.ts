import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy, { type MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import { logger } from './log.ts';
import { metrics, type MetricsBuffer, outcomeMetrics } from './metrics.ts';

/**
 * Flushes buffered metrics once per invocation, success or error, so no metric outlives its
 * invocation. Only instances holding metrics are flushed.
 */
function flushMetrics(instances: readonly MetricsBuffer[]): MiddlewareObj {
  const flush = () => {
    for (const m of instances) if (m.hasStoredMetrics()) m.publishStoredMetrics();
  };
  return { after: flush, onError: flush };
}

/** A function's handler as Lambda calls it (the context is optional so tests may leave it out; middy then passes `{}`). */
export type LambdaFunction<E, R> = (event: E, context?: Context) => Promise<R>;

/**
 * The middy base of every function in serverless.yml, HTTP or not: the invocation's Lambda
 * context (`function_request_id`, `cold_start`, …) on every log line the logger writes during it
 * (Powertools `injectLambdaContext`), and {@link metrics} and {@link outcomeMetrics} flushed once
 * per invocation, success or error. Further middlewares (lib/http/handler.ts) go on top.
 */
export function lambdaBase<E, R>() {
  // No early-timeout race (middy's default arms a timer per invocation): every dependency call is
  // bounded well inside the function timeout (SDK_DEFAULTS, FEDBROKER_UPSTREAM_TIMEOUT_MS), and
  // should the function still time out, Lambda reports it (API Gateway answers 503).
  return middy<E, R>({ timeoutEarlyInMillis: 0 })
    .use(injectLambdaContext(logger) as MiddlewareObj<E, R>)
    .use(flushMetrics([metrics, outcomeMetrics]) as MiddlewareObj<E, R>);
}

/** A function that is not behind the HTTP API (schedule, log subscription), on {@link lambdaBase}. */
export function lambdaHandler<E, R>(fn: (event: E, context: Context) => Promise<R>): LambdaFunction<E, R> {
  return lambdaBase<E, R>().handler(fn) as LambdaFunction<E, R>;
}

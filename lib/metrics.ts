import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logger } from './log.ts';

/**
 * Operational metrics, as CloudWatch embedded metric format lines (namespace `fedbroker`).
 * Undimensioned metrics are buffered on {@link metrics}, the request's outcome on
 * {@link outcomeMetrics}; the `flushMetrics` middleware of every function (`lib/lambda.ts`) flushes
 * both once per invocation (Powertools applies a flush's dimension sets to everything in it, hence two).
 *
 * Every dimension value comes from a bounded set (outcomes, error codes, known audiences):
 * CloudWatch bills each distinct dimension combination as its own metric.
 */

// Powertools warns on every flush without metrics (discovery, JWKS): not worth a log line.
const quiet = {
  debug: () => undefined,
  info: () => undefined,
  warn: (message: unknown, ...rest: unknown[]) => {
    if (typeof message === 'string' && message.startsWith('No application metrics')) return;
    logger.warn(String(message), { detail: rest.map(String) });
  },
  error: (message: unknown) => logger.error(String(message)),
};

export const metrics = new Metrics({ namespace: 'fedbroker', serviceName: 'fedbroker', logger: quiet });

/** Audiences worth their own time series; anything else is counted as `other`. */
const KNOWN_AUDIENCES = new Set([
  'sts.amazonaws.com',
  'sts.amazonaws.com.cn',
  'cognito-identity.amazonaws.com',
  'api://AzureADTokenExchange',
]);

/** The `audience` dimension: `fedbroker` for fedbroker's own access tokens, a known audience, or `other`. */
export function audienceDimension(audience: string | undefined, issuer: string): string {
  if (audience === undefined || audience === issuer) return 'fedbroker';
  return KNOWN_AUDIENCES.has(audience) ? audience : 'other';
}

/** Reasons and codes are constants in the code base; anything unexpected collapses to `other`. */
function bounded(value: string): string {
  return /^[A-Za-z0-9_]{1,64}$/.test(value) ? value : 'other';
}

/**
 * The request's outcome metrics (Exchanges, TokensIssued), flushed with {@link metrics} by the
 * same middleware as one EMF line. Each is recorded with its own dimension set (`addDimensions`),
 * which EMF applies to every metric of the line, so a granted exchange that issued a token is
 * also counted as Exchanges by token type and audience, and the token by outcome: true of that
 * one request, and a handler records at most one exchange and one token. One line per request
 * instead of a `singleMetric()` each: that builds a whole Metrics instance per call (environment
 * reads, a Console) and writes its own line, which cost more than the rest of issuing a token.
 * (The local run serves requests concurrently in one process, so there a flush may carry another
 * request's set: local metrics are indicative only.)
 */
export const outcomeMetrics = new Metrics({ namespace: 'fedbroker', serviceName: 'fedbroker', logger: quiet });

function dimensioned(name: string, dimensions: Record<string, string>): void {
  outcomeMetrics.addDimensions(dimensions);
  outcomeMetrics.addMetric(name, MetricUnit.Count, 1);
}

/** One token exchange, by outcome (`success`, `refused`, `error`) and refusal reason (`none` when granted). */
export function countExchange(outcome: string, reason: string | undefined): void {
  dimensioned('Exchanges', { outcome: bounded(outcome), reason: reason ? bounded(reason) : 'none' });
}

/** One token issued, by type and (capped) audience. */
export function countTokenIssued(tokenType: 'access_token' | 'id_token' | 'cognito', audience: string): void {
  dimensioned('TokensIssued', { token_type: tokenType, audience });
}

/** Latency of one KMS `Sign` call (the dominant cost of issuing a token). */
export function recordKmsSignLatency(milliseconds: number): void {
  metrics.addMetric('KmsSignLatency', MetricUnit.Milliseconds, milliseconds);
}

/** One refresh of an upstream issuer's keys (discovery + JWKS), and whether it failed. */
export function countUpstreamKeyFetch(ok: boolean): void {
  metrics.addMetric('UpstreamJwksFetches', MetricUnit.Count, 1);
  if (!ok) metrics.addMetric('UpstreamJwksFetchFailures', MetricUnit.Count, 1);
}

/** Log lines delivered to the audit ingest that were not well-formed audit entries (dropped). */
export function countAuditLinesDropped(lines: number): void {
  if (lines > 0) metrics.addMetric('AuditLinesDropped', MetricUnit.Count, lines);
}

/** An audit record that reached the logs but not the table. */
export function countAuditWriteFailure(): void {
  metrics.addMetric('AuditWriteFailures', MetricUnit.Count, 1);
}

/** A refusal record left unwritten by the per-source limit (`lib/audit/refusal-limiter.ts`); `Exchanges` still counts the refusal. */
export function countAuditRefusalSuppressed(): void {
  metrics.addMetric('AuditRefusalsSuppressed', MetricUnit.Count, 1);
}

import { logger } from './log.ts';

/**
 * Operational metrics, as CloudWatch embedded metric format lines (namespace `fedbroker`).
 * Undimensioned metrics are buffered on {@link metrics}, the request's outcome on
 * {@link outcomeMetrics}; the `flushMetrics` middleware of every function (`lib/lambda.ts`) flushes
 * both once per invocation (a line's dimension sets apply to every metric in it, hence two).
 *
 * Every dimension value comes from a bounded set (outcomes, error codes, known audiences):
 * CloudWatch bills each distinct dimension combination as its own metric.
 */

/** The units fedbroker records (CloudWatch `StandardUnit` names). */
type Unit = 'Count' | 'Milliseconds';

/** `POWERTOOLS_METRICS_DISABLED` (else `POWERTOOLS_DEV`), read as Powertools reads them: the variables operators already know. */
function disabledByEnvironment(): boolean {
  const flag = (name: string): boolean | undefined => {
    const v = process.env[name]?.trim().toLowerCase();
    if (v === undefined) return undefined;
    return ['1', 'y', 'yes', 't', 'true', 'on'].includes(v);
  };
  return flag('POWERTOOLS_METRICS_DISABLED') ?? flag('POWERTOOLS_DEV') ?? false;
}

/**
 * Metrics buffered for one invocation and written as one EMF line (CloudWatch User Guide,
 * "Embedded metric format specification"), the same line `@aws-lambda-powertools/metrics` wrote:
 * the `service` dimension on every set, a metric recorded twice as an array of values. Written
 * here rather than through Powertools, whose stores read an environment variable on every access
 * (it looks up `AWS_LAMBDA_MAX_CONCURRENCY` for each metric, dimension and flush): measured with
 * `bench/micro.ts profile-exchange`, that was a tenth of an exchange's CPU.
 */
export class MetricsBuffer {
  readonly #namespace: string;
  readonly #service: string;
  readonly #disabled = disabledByEnvironment();
  #values = new Map<string, { unit: Unit; values: number[] }>();
  #dimensionSets: string[][] = [];
  #dimensions: Record<string, string> = {};

  constructor(options: { namespace: string; serviceName: string }) {
    this.#namespace = options.namespace;
    this.#service = options.serviceName;
  }

  addMetric(name: string, unit: Unit, value: number): void {
    const stored = this.#values.get(name);
    if (stored) stored.values.push(value);
    else this.#values.set(name, { unit, values: [value] });
  }

  /** Adds one dimension set (with `service`) that applies to every metric of the line. */
  addDimensions(dimensions: Record<string, string>): void {
    this.#dimensionSets.push(['service', ...Object.keys(dimensions)]);
    Object.assign(this.#dimensions, dimensions);
  }

  hasStoredMetrics(): boolean {
    return this.#values.size > 0;
  }

  /** Writes the buffered metrics as one line on standard output and starts over. */
  publishStoredMetrics(): void {
    const values = this.#values;
    const sets = this.#dimensionSets.length > 0 ? this.#dimensionSets : [['service']];
    const dimensions = this.#dimensions;
    this.#values = new Map();
    this.#dimensionSets = [];
    this.#dimensions = {};
    if (this.#disabled || values.size === 0) return;
    const line: Record<string, unknown> = {
      _aws: {
        Timestamp: Date.now(),
        CloudWatchMetrics: [
          {
            Namespace: this.#namespace,
            Dimensions: sets,
            Metrics: [...values].map(([Name, { unit }]) => ({ Name, Unit: unit })),
          },
        ],
      },
      service: this.#service,
      ...dimensions,
    };
    for (const [name, { values: v }] of values) line[name] = v.length === 1 ? v[0] : v;
    try {
      process.stdout.write(`${JSON.stringify(line)}\n`);
    } catch (e) {
      // Metrics are best effort: a closed standard output must not fail the request.
      logger.warn('metrics line not written', { error: String(e) });
    }
  }
}

export const metrics = new MetricsBuffer({ namespace: 'fedbroker', serviceName: 'fedbroker' });

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
 * instead of a line each, which cost more than the rest of issuing a token.
 * (The local run serves requests concurrently in one process, so there a flush may carry another
 * request's set: local metrics are indicative only.)
 */
export const outcomeMetrics = new MetricsBuffer({ namespace: 'fedbroker', serviceName: 'fedbroker' });

function dimensioned(name: string, dimensions: Record<string, string>): void {
  outcomeMetrics.addDimensions(dimensions);
  outcomeMetrics.addMetric(name, 'Count', 1);
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
  metrics.addMetric('KmsSignLatency', 'Milliseconds', milliseconds);
}

/** One refresh of an upstream issuer's keys (discovery + JWKS), and whether it failed. */
export function countUpstreamKeyFetch(ok: boolean): void {
  metrics.addMetric('UpstreamJwksFetches', 'Count', 1);
  if (!ok) metrics.addMetric('UpstreamJwksFetchFailures', 'Count', 1);
}

/** Log lines delivered to the audit ingest that were not well-formed audit entries (dropped). */
export function countAuditLinesDropped(lines: number): void {
  if (lines > 0) metrics.addMetric('AuditLinesDropped', 'Count', lines);
}

/** An audit record that reached the logs but not the table. */
export function countAuditWriteFailure(): void {
  metrics.addMetric('AuditWriteFailures', 'Count', 1);
}

/** A refusal record left unwritten by the per-source limit (`lib/audit/refusal-limiter.ts`); `Exchanges` still counts the refusal. */
export function countAuditRefusalSuppressed(): void {
  metrics.addMetric('AuditRefusalsSuppressed', 'Count', 1);
}

// Every function serverless.yml deploys runs on the one middy base (lib/lambda.ts): its buffered
// metrics are flushed by the end of each invocation, and every line the logger writes during it
// carries the invocation's Lambda request id. Each function is invoked as Lambda would invoke it,
// against the broker's real parts, and judged by what it printed.
import { readFileSync } from 'node:fs';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import { startBroker, type TestBroker } from '../support/broker.ts';
import { httpEvent, lambdaContext, logsSubscriptionEvent } from '../support/events.ts';

interface FunctionDecl {
  handler: string;
  events?: Record<string, unknown>[];
}

const declared = Object.entries(
  (parse(readFileSync('serverless.yml', 'utf8'), { logLevel: 'silent' }) as { functions: Record<string, FunctionDecl> }).functions,
);

/** An event of the function's own trigger: HTTP API (a method no route serves, 405), schedule or log subscription. */
function eventFor(key: string, fn: FunctionDecl): unknown {
  const kinds = new Set((fn.events ?? []).flatMap((e) => Object.keys(e)));
  if (kinds.has('httpApi')) return httpEvent('TRACE', `/probe/${key}`);
  if (kinds.has('schedule')) return { source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} };
  if (kinds.has('cloudwatchLog')) return logsSubscriptionEvent(['a line that is not an audit entry']);
  throw new Error(`serverless.yml function ${key} has a trigger this test does not know; add an event for it`);
}

let broker: TestBroker;
const printed: string[] = [];

beforeAll(async () => {
  broker = await startBroker({ env: { POWERTOOLS_METRICS_DISABLED: 'false', POWERTOOLS_LOG_LEVEL: 'INFO' } });
  // The logger writes INFO to stdout and WARN/ERROR to stderr; metrics (EMF) go to stdout.
  for (const stream of [process.stdout, process.stderr]) {
    vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
      printed.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return true;
    });
  }
});
afterAll(async () => {
  vi.restoreAllMocks();
  await broker?.close();
});

describe('every function in serverless.yml', () => {
  it('declares functions to check', () => {
    expect(declared.length).toBeGreaterThan(10);
  });

  it.each(declared)('%s flushes its metrics and tags its log lines with the request id', async (key, fn) => {
    const dot = fn.handler.lastIndexOf('.');
    const mod = await broker.load<Record<string, (event: unknown, context: Context) => Promise<unknown>>>(`${fn.handler.slice(0, dot)}.ts`);
    const { metrics } = await broker.load<typeof import('../../lib/metrics.ts')>('lib/metrics.ts');
    const handler = mod[fn.handler.slice(dot + 1)];
    expect(handler).toBeTypeOf('function');

    // A metric buffered as if by the code under the handler: only a flush prints it.
    metrics.addMetric('FlushProbe', 'Count', 1);
    const context = lambdaContext();
    const from = printed.length;
    await handler!(eventFor(key, fn), context).catch(() => undefined);
    const lines = printed
      .slice(from)
      .join('')
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);

    expect(metrics.hasStoredMetrics()).toBe(false);
    expect(lines.filter((l) => '_aws' in l && 'FlushProbe' in l)).toHaveLength(1);
    // Audit lines are data records written beside the logger, with their own request_id.
    const logged = lines.filter((l) => !('_aws' in l) && l.audit !== true);
    expect(logged.length).toBeGreaterThan(0);
    for (const line of logged) expect(line).toMatchObject({ function_request_id: context.awsRequestId });
  });
});

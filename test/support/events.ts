import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';

/** Builds an API Gateway HTTP API (payload 2.0) event, as the gateway would send it. */
export function httpEvent(
  method: string,
  path: string,
  options: {
    headers?: Record<string, string>;
    body?: string;
    query?: Record<string, string>;
    pathParameters?: Record<string, string>;
  } = {},
): APIGatewayProxyEventV2 {
  const requestId = randomUUID();
  return {
    version: '2.0',
    routeKey: `${method} ${path}`,
    rawPath: path,
    rawQueryString: new URLSearchParams(options.query ?? {}).toString(),
    headers: { host: 'localhost', ...(options.headers ?? {}) },
    queryStringParameters: options.query,
    pathParameters: options.pathParameters,
    requestContext: {
      accountId: 'anonymous',
      apiId: 'local',
      domainName: 'localhost',
      domainPrefix: 'localhost',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'vitest' },
      requestId,
      routeKey: `${method} ${path}`,
      stage: '$default',
      time: new Date().toISOString(),
      timeEpoch: Date.now(),
    },
    body: options.body,
    isBase64Encoded: false,
  };
}

/** A minimal Lambda context. */
export function lambdaContext(): Context {
  return {
    awsRequestId: randomUUID(),
    functionName: 'fedbroker-test',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:fedbroker-test',
    memoryLimitInMB: '512',
    logGroupName: '/aws/lambda/fedbroker-test',
    logStreamName: 'test',
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => 10_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/**
 * Builds what a CloudWatch Logs subscription filter delivers to Lambda: `awslogs.data` is the
 * base64 of the gzipped JSON payload (CloudWatch Logs User Guide, "Subscription filters").
 */
export function logsSubscriptionEvent(messages: string[], logGroup = '/aws/lambda/fedbroker-test-token'): { awslogs: { data: string } } {
  const payload = {
    messageType: 'DATA_MESSAGE',
    owner: '000000000000',
    logGroup,
    logStream: '2025/01/01/[$LATEST]0123456789abcdef',
    subscriptionFilters: ['fedbroker-audit'],
    logEvents: messages.map((message, i) => ({ id: String(i), timestamp: Date.now(), message })),
  };
  return { awslogs: { data: gzipSync(JSON.stringify(payload)).toString('base64') } };
}

// A lean, in-process stand-in for API Gateway HTTP API with Lambda proxy integrations (payload
// format 2.0), on node:http: the front of `npm start` and of the tests. Routes come from
// serverless.yml (lib/local/http-api-routes.ts); events and responses are mapped as API Gateway
// maps them (lib/local/http-api-event.ts). Handlers run in this process, each module imported once.
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { redact } from '../redact.ts';
import { fromResult, gatewayRequestId, splitTarget, toEvent, type ApiIdentity, type WireResponse } from './http-api-event.ts';
import type { HttpApiRoute, RouteTable } from './http-api-routes.ts';

/** A Lambda handler as the Node.js runtime calls it (async handlers; callbacks are not supported). */
export type LambdaHandler = (event: APIGatewayProxyEventV2, context: Context) => unknown;

export interface HttpApiOptions {
  routes: RouteTable;
  /**
   * Resolves a route's handler on every request. Default: imports `route.module` (relative to
   * `root`) on first use and keeps the handler, as a warm Lambda container does.
   */
  load?: (route: HttpApiRoute) => LambdaHandler | Promise<LambdaHandler>;
  /** Where route modules are resolved from; default the working directory. */
  root?: string;
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  region?: string;
  api?: Partial<ApiIdentity>;
  /** Called when a function throws, times out or returns a malformed response; default: a line on stderr. */
  onFunctionError?: (error: unknown, route: HttpApiRoute, awsRequestId: string) => void;
}

export interface HttpApi {
  url: string;
  port: number;
  server: Server;
  /** Imports every route's handler now, so the first request does not pay for it. */
  preload(): Promise<void>;
  close(): Promise<void>;
}

/** API Gateway's request payload quota for HTTP APIs: 10 MB. */
export const MAX_REQUEST_BYTES = 10 * 1024 * 1024;

/** The function took longer than its configured timeout. */
class FunctionTimeout extends Error {
  override name = 'FunctionTimeout';
}

// API Gateway's own answers: a JSON `message`, never the function's error.
const gatewayError = (statusCode: number, message: string): WireResponse => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ message }),
});
const NOT_FOUND = gatewayError(404, 'Not Found');
const TOO_LARGE = gatewayError(413, 'Request Entity Too Large');
const INTERNAL = gatewayError(500, 'Internal Server Error');

/** Starts the HTTP API on `host:port` (127.0.0.1 and a free port by default). */
export async function startHttpApi(options: HttpApiOptions): Promise<HttpApi> {
  const region = options.region ?? process.env.AWS_REGION ?? 'us-east-1';
  const api: ApiIdentity = { accountId: options.api?.accountId ?? '000000000000', apiId: options.api?.apiId ?? 'local' };
  const root = options.root ?? process.cwd();
  const imported = new Map<string, Promise<LambdaHandler>>();
  const importHandler = (route: HttpApiRoute) => {
    const key = `${route.module}#${route.exportName}`;
    let handler = imported.get(key);
    if (!handler) {
      handler = import(pathToFileURL(resolve(root, route.module)).href).then((m: Record<string, unknown>) => {
        const fn = m[route.exportName];
        if (typeof fn !== 'function') throw new Error(`${route.module} does not export a function ${route.exportName}`);
        return fn as LambdaHandler;
      });
      imported.set(key, handler);
    }
    return handler;
  };
  const load = options.load ?? importHandler;
  const onFunctionError = options.onFunctionError ?? logFunctionError;
  const streams = new Map<string, string>();
  const logStream = (route: HttpApiRoute) => {
    let name = streams.get(route.functionName);
    if (!name) {
      name = `${new Date().toISOString().slice(0, 10).replaceAll('-', '/')}/[$LATEST]${randomBytes(16).toString('hex')}`;
      streams.set(route.functionName, name);
    }
    return name;
  };

  const server = createServer((req, res) => {
    serve(req, res).catch(() => res.destroy());
  });

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = gatewayRequestId();
    const body = await readBody(req, MAX_REQUEST_BYTES);
    if (!body) return send(res, TOO_LARGE, requestId);
    const method = req.method ?? 'GET';
    const { rawPath, rawQueryString } = splitTarget(req.url ?? '/');
    const match = options.routes.match(method, rawPath);
    if (!match) return send(res, NOT_FOUND, requestId);
    const { route } = match;
    const event = toEvent(
      {
        method,
        rawPath,
        rawQueryString,
        rawHeaders: req.rawHeaders,
        body,
        sourceIp: clientIp(req),
        httpVersion: req.httpVersion,
        localPort: req.socket.localPort ?? 0,
      },
      match,
      api,
      requestId,
    );
    const deadline = Date.now() + route.timeoutSeconds * 1000;
    const context = lambdaContext(route, region, api.accountId, logStream(route), deadline);
    let response: WireResponse;
    try {
      const handler = await load(route);
      response = fromResult(await withDeadline(Promise.resolve(handler(event, context)), deadline, route));
    } catch (error) {
      onFunctionError(error, route, context.awsRequestId);
      response = INTERNAL;
    }
    send(res, response, requestId);
  }

  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => done());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    port,
    server,
    preload: async () => {
      await Promise.all(options.routes.routes.map((route) => load(route)));
    },
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

/** The body, or undefined when it exceeds `limit` (read to the end, so the 413 reaches the client). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((done, fail) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on('end', () => done(size > limit ? undefined : chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    req.on('error', fail);
  });
}

function clientIp(req: IncomingMessage): string {
  const ip = req.socket.remoteAddress ?? '127.0.0.1';
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}

function send(res: ServerResponse, response: WireResponse, requestId: string): void {
  try {
    const length = typeof response.body === 'string' ? Buffer.byteLength(response.body) : response.body.length;
    res.writeHead(response.statusCode, { ...response.headers, 'content-length': length, 'apigw-requestid': requestId });
  } catch {
    // A header value node:http refuses (e.g. a control character) is a malformed response.
    res.writeHead(INTERNAL.statusCode, {
      ...INTERNAL.headers,
      'content-length': Buffer.byteLength(INTERNAL.body),
      'apigw-requestid': requestId,
    });
    res.end(INTERNAL.body);
    return;
  }
  res.end(response.body);
}

/** Rejects with {@link FunctionTimeout} at `deadline`, as Lambda ends an invocation at its timeout. */
function withDeadline<T>(work: Promise<T>, deadline: number, route: HttpApiRoute): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, fail) => {
    timer = setTimeout(
      () => fail(new FunctionTimeout(`Task timed out after ${route.timeoutSeconds.toFixed(2)} seconds`)),
      Math.max(0, deadline - Date.now()),
    );
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** The context object the Node.js runtime passes: a fresh awsRequestId per invocation. */
function lambdaContext(route: HttpApiRoute, region: string, accountId: string, logStreamName: string, deadline: number): Context {
  return {
    awsRequestId: randomUUID(),
    functionName: route.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:${accountId}:function:${route.functionName}`,
    memoryLimitInMB: String(route.memorySizeMb),
    logGroupName: `/aws/lambda/${route.functionName}`,
    logStreamName,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    // Deprecated callback-era members; async handlers return their result instead.
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** What the Lambda runtime logs for a failed invocation, redacted and without the stack. */
function logFunctionError(error: unknown, route: HttpApiRoute, awsRequestId: string): void {
  const errorType = error instanceof Error ? error.name : typeof error;
  const errorMessage = error instanceof Error ? redact(error.message).slice(0, 500) : '[non-error thrown]';
  const line = { level: 'ERROR', message: 'Invoke Error', function: route.functionName, requestId: awsRequestId, errorType, errorMessage };
  process.stderr.write(`${JSON.stringify(line)}\n`);
}

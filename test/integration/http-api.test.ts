// The local API Gateway HTTP API stand-in (lib/local/http-api.ts) over real HTTP: each row sends a
// request and checks the payload 2.0 event the function received, or the response the client got.
import { request } from 'node:http';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MAX_REQUEST_BYTES, startHttpApi, type HttpApi, type LambdaHandler } from '../../lib/local/http-api.ts';
import { compileRoutes, type HttpApiRoute } from '../../lib/local/http-api-routes.ts';

const route = (routeKey: string, functionKey: string, timeoutSeconds = 5): HttpApiRoute => {
  const [method, path] = routeKey === '$default' ? [undefined, undefined] : routeKey.split(' ');
  return {
    routeKey,
    method,
    path,
    functionKey,
    functionName: `svc-local-${functionKey}`,
    module: `${functionKey}.ts`,
    exportName: 'handler',
    timeoutSeconds,
    memorySizeMb: 256,
  };
};

let seen: { event: APIGatewayProxyEventV2; context: Context; remaining: number }[] = [];
let errors: { error: unknown; route: string }[] = [];
const echo: LambdaHandler = async (event, context) => {
  seen.push({ event, context, remaining: context.getRemainingTimeInMillis() });
  return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{}' };
};
// What each function does, by function key; `result` returns whatever the test put in `nextResult`.
let nextResult: unknown;
const handlers: Record<string, LambdaHandler> = {
  echo,
  fallback: echo,
  result: async () => nextResult,
  crash: async () => {
    throw new Error('database password hunter2 and token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln');
  },
  slow: () => new Promise(() => undefined),
};

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}
/**
 * node:http with raw header lines, so repeated headers go out as sent (fetch would merge them);
 * raw headers get no defaults, hence Host and Content-Length here.
 */
function send(api: HttpApi, method: string, path: string, rawHeaders: string[] = [], body?: Buffer | string): Promise<Reply> {
  const headers = [
    'Host',
    new URL(api.url).host,
    ...(body === undefined ? [] : ['Content-Length', String(Buffer.byteLength(body))]),
    ...rawHeaders,
  ];
  return new Promise((done, fail) => {
    const req = request(`${api.url}${path}`, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', fail);
    req.end(body);
  });
}

describe('local HTTP API (payload format 2.0)', () => {
  let api: HttpApi;
  let bare: HttpApi;
  beforeAll(async () => {
    const load = (r: HttpApiRoute) => handlers[r.functionKey]!;
    const onFunctionError = (error: unknown, r: HttpApiRoute) => errors.push({ error, route: r.routeKey });
    api = await startHttpApi({
      routes: compileRoutes([
        route('ANY /echo', 'echo'),
        route('GET /items/{id}', 'echo'),
        route('ANY /result', 'result'),
        route('ANY /crash', 'crash'),
        route('ANY /slow', 'slow', 0.2),
        route('$default', 'fallback'),
      ]),
      load,
      onFunctionError,
      api: { accountId: '123456789012', apiId: 'abc123' },
      region: 'eu-west-1',
    });
    bare = await startHttpApi({ routes: compileRoutes([route('ANY /echo', 'echo')]), load, onFunctionError });
  });
  afterAll(async () => Promise.all([api?.close(), bare?.close()]));
  beforeEach(() => {
    seen = [];
    errors = [];
  });
  const lastEvent = () => seen.at(-1)!.event;

  describe('request → event', () => {
    it.each<[string, string, string[], string | Buffer | undefined, (e: APIGatewayProxyEventV2) => void]>([
      [
        'repeated headers, comma-joined, names lower-cased',
        '/echo',
        ['X-Multi', 'a', 'x-multi', 'b', 'X-Single', 'One'],
        undefined,
        (e) => {
          expect(e.headers['x-multi']).toBe('a,b');
          expect(e.headers['x-single']).toBe('One');
          expect(e.headers).not.toHaveProperty('X-Single');
        },
      ],
      [
        'repeated query parameters, comma-joined and decoded; rawQueryString as sent',
        '/echo?a=1&b=x%20y&a=2',
        [],
        undefined,
        (e) => {
          expect(e.queryStringParameters).toEqual({ a: '1,2', b: 'x y' });
          expect(e.rawQueryString).toBe('a=1&b=x%20y&a=2');
        },
      ],
      [
        'no query string: queryStringParameters absent',
        '/echo',
        [],
        undefined,
        (e) => {
          expect(e.rawQueryString).toBe('');
          expect(e).not.toHaveProperty('queryStringParameters');
        },
      ],
      [
        'cookies moved from the Cookie headers to `cookies`',
        '/echo',
        ['Cookie', 'a=1; b=2', 'Cookie', 'c=3'],
        undefined,
        (e) => {
          expect(e.cookies).toEqual(['a=1', 'b=2', 'c=3']);
          expect(e.headers).not.toHaveProperty('cookie');
        },
      ],
      ['no cookies: `cookies` absent', '/echo', [], undefined, (e) => expect(e).not.toHaveProperty('cookies')],
      [
        'binary body base64-encoded',
        '/echo',
        ['Content-Type', 'application/octet-stream'],
        Buffer.from([0, 255, 1, 254]),
        (e) => {
          expect(e.isBase64Encoded).toBe(true);
          expect(e.body).toBe(Buffer.from([0, 255, 1, 254]).toString('base64'));
        },
      ],
      [
        'form body base64-encoded, as HTTP APIs do',
        '/echo',
        ['Content-Type', 'application/x-www-form-urlencoded'],
        'a=b&c=d',
        (e) => {
          expect(e.isBase64Encoded).toBe(true);
          expect(Buffer.from(e.body!, 'base64').toString()).toBe('a=b&c=d');
        },
      ],
      [
        'JSON body as text',
        '/echo',
        ['Content-Type', 'application/json; charset=utf-8'],
        '{"é":1}',
        (e) => {
          expect(e.isBase64Encoded).toBe(false);
          expect(e.body).toBe('{"é":1}');
        },
      ],
      [
        'text/* body as text',
        '/echo',
        ['Content-Type', 'text/plain'],
        'hello',
        (e) => expect([e.body, e.isBase64Encoded]).toEqual(['hello', false]),
      ],
      [
        'no body: body absent, isBase64Encoded false',
        '/echo',
        [],
        undefined,
        (e) => {
          expect(e).not.toHaveProperty('body');
          expect(e.isBase64Encoded).toBe(false);
        },
      ],
      [
        'path parameters, decoded, and the route key',
        '/items/a%20b',
        [],
        undefined,
        (e) => {
          expect(e.pathParameters).toEqual({ id: 'a b' });
          expect(e.routeKey).toBe('GET /items/{id}');
          expect(e.rawPath).toBe('/items/a b');
        },
      ],
      [
        'percent-escapes in the path decoded, except %25',
        '/items/50%25%20off',
        [],
        undefined,
        (e) => {
          expect(e.rawPath).toBe('/items/50%25 off');
          expect(e.pathParameters).toEqual({ id: '50%25 off' });
        },
      ],
      ['no path parameters: pathParameters absent', '/echo', [], undefined, (e) => expect(e).not.toHaveProperty('pathParameters')],
      [
        'unmatched path → the $default route',
        '/nowhere?x=1',
        [],
        undefined,
        (e) => {
          expect(e.routeKey).toBe('$default');
          expect(e.rawPath).toBe('/nowhere');
          expect(e.requestContext.routeKey).toBe('$default');
        },
      ],
    ])('%s', async (_name, path, headers, body, check) => {
      const res = await send(api, body === undefined ? 'GET' : 'POST', path, headers, body);
      expect(res.status).toBe(200);
      check(lastEvent());
    });

    it('fills requestContext as API Gateway does', async () => {
      const res = await send(api, 'PATCH', '/echo', ['User-Agent', 'probe/1.0']);
      const e = lastEvent();
      expect(e.version).toBe('2.0');
      expect(e.routeKey).toBe('ANY /echo');
      expect(e.requestContext).toMatchObject({
        accountId: '123456789012',
        apiId: 'abc123',
        domainName: '127.0.0.1',
        http: { method: 'PATCH', path: '/echo', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'probe/1.0' },
        routeKey: 'ANY /echo',
        stage: '$default',
      });
      expect(e.requestContext.requestId).toBe(res.headers['apigw-requestid']);
      expect(e.requestContext.time).toMatch(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
      expect(Math.abs(e.requestContext.timeEpoch - Date.now())).toBeLessThan(60_000);
      expect(e.headers['x-forwarded-for']).toBe('127.0.0.1');
      expect(e.headers['x-amzn-trace-id']).toMatch(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$/);
    });

    it('passes a Lambda context with a fresh awsRequestId per request', async () => {
      await send(api, 'GET', '/echo');
      await send(api, 'GET', '/echo');
      const [a, b] = seen.map((s) => s.context);
      expect(a!.awsRequestId).not.toBe(b!.awsRequestId);
      expect(a).toMatchObject({
        functionName: 'svc-local-echo',
        functionVersion: '$LATEST',
        invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:svc-local-echo',
        memoryLimitInMB: '256',
        logGroupName: '/aws/lambda/svc-local-echo',
      });
      expect(seen[0]!.remaining).toBeGreaterThan(0);
      expect(seen[0]!.remaining).toBeLessThanOrEqual(5000);
    });
  });

  describe('result → response', () => {
    it.each<[string, unknown, (r: Reply) => void]>([
      [
        'status, headers and text body',
        { statusCode: 201, headers: { 'X-Thing': 'v', 'Content-Type': 'text/plain' }, body: 'made' },
        (r) => {
          expect(r.status).toBe(201);
          expect(r.headers['x-thing']).toBe('v');
          expect(r.body.toString()).toBe('made');
        },
      ],
      [
        'cookies → one set-cookie each',
        { statusCode: 200, cookies: ['a=1; Path=/', 'b=2'], body: '' },
        (r) => expect(r.headers['set-cookie']).toEqual(['a=1; Path=/', 'b=2']),
      ],
      [
        'base64 body decoded to bytes',
        {
          statusCode: 200,
          isBase64Encoded: true,
          headers: { 'content-type': 'image/png' },
          body: Buffer.from([137, 80, 0, 255]).toString('base64'),
        },
        (r) => {
          expect([...r.body]).toEqual([137, 80, 0, 255]);
        },
      ],
      [
        'no statusCode: 200 application/json with the result as body',
        { hello: 'world' },
        (r) => {
          expect(r.status).toBe(200);
          expect(r.headers['content-type']).toBe('application/json');
          expect(JSON.parse(r.body.toString())).toEqual({ hello: 'world' });
        },
      ],
      ['a string result: its text as body', 'plain words', (r) => expect([r.status, r.body.toString()]).toEqual([200, 'plain words'])],
    ])('%s', async (_name, result, check) => {
      nextResult = result;
      const res = await send(api, 'GET', '/result');
      check(res);
      expect(res.headers['apigw-requestid']).toMatch(/^[A-Za-z0-9+/]{15}=$/);
    });
  });

  describe('API Gateway answers', () => {
    const internal = (r: Reply) => {
      expect(r.status).toBe(500);
      expect(r.headers['content-type']).toBe('application/json');
      expect(JSON.parse(r.body.toString())).toEqual({ message: 'Internal Server Error' });
    };

    it('answers a crashing function with 500 Internal Server Error, never its error', async () => {
      const res = await send(api, 'POST', '/crash', ['Content-Type', 'text/plain'], 'x');
      internal(res);
      expect(res.body.toString()).not.toMatch(/hunter2|eyJ|database/);
      expect(errors).toHaveLength(1);
      expect(errors[0]!.route).toBe('ANY /crash');
    });

    it.each<[string, unknown]>([
      ['a statusCode that is not an HTTP status', { statusCode: 'ok', body: '' }],
      ['a body that is not a string', { statusCode: 200, body: { no: 'string' } }],
      ['a header value with a line break', { statusCode: 200, headers: { 'x-bad': 'a\r\nb' }, body: '' }],
    ])('answers %s with 500', async (_name, result) => {
      nextResult = result;
      internal(await send(api, 'GET', '/result'));
    });

    it("answers a function that outlives its timeout with 500, as Lambda's timeout is a function error", async () => {
      internal(await send(api, 'GET', '/slow'));
      expect((errors[0]!.error as Error).name).toBe('FunctionTimeout');
    });

    it('answers a body over 10 MB with 413 without invoking the function', async () => {
      const res = await send(api, 'POST', '/echo', ['Content-Type', 'application/octet-stream'], Buffer.alloc(MAX_REQUEST_BYTES + 1));
      expect(res.status).toBe(413);
      expect(JSON.parse(res.body.toString())).toEqual({ message: 'Request Entity Too Large' });
      expect(seen).toHaveLength(0);
    });

    it('passes a body of exactly 10 MB', async () => {
      const res = await send(api, 'POST', '/echo', ['Content-Type', 'application/octet-stream'], Buffer.alloc(MAX_REQUEST_BYTES));
      expect(res.status).toBe(200);
      expect(Buffer.from(lastEvent().body!, 'base64').length).toBe(MAX_REQUEST_BYTES);
    });

    it('answers 404 Not Found when no route matches and there is no $default route', async () => {
      const res = await send(bare, 'GET', '/nowhere');
      expect(res.status).toBe(404);
      expect(JSON.parse(res.body.toString())).toEqual({ message: 'Not Found' });
      expect(seen).toHaveLength(0);
    });
  });
});

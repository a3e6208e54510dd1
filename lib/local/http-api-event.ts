// API Gateway HTTP API payload format 2.0, both ways: an HTTP request becomes the Lambda event,
// the function's result becomes the HTTP response. Field by field as "Create AWS Lambda proxy
// integrations for HTTP APIs in API Gateway" (API Gateway Developer Guide) describes them.
import { randomFillSync } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { RouteMatch } from './http-api-routes.ts';

/** What the front read off the wire for one request. */
export interface WireRequest {
  method: string;
  /** The path, decoded by {@link splitTarget}. */
  rawPath: string;
  /** The query string as sent, without `?`. */
  rawQueryString: string;
  /** Header names and values in arrival order, as node:http's `rawHeaders`. */
  rawHeaders: readonly string[];
  body: Buffer;
  sourceIp: string;
  httpVersion: string;
  localPort: number;
}

/** The API's identity in events (requestContext.accountId, apiId). */
export interface ApiIdentity {
  accountId: string;
  apiId: string;
}

/** An HTTP response ready to write. */
export interface WireResponse {
  statusCode: number;
  headers: Record<string, string | string[]>;
  body: Buffer | string;
}

/** The Lambda result is not a response API Gateway accepts: it answers 500. */
class MalformedLambdaResponse extends Error {
  override name = 'MalformedLambdaResponse';
}

// Request bodies of these types arrive as text; every other body (no Content-Type and
// application/x-www-form-urlencoded included) arrives base64-encoded with isBase64Encoded: true.
// The guide says only "if the content type of the request is binary"; this split is what HTTP APIs
// are observed to do.
const TEXT_TYPES = new Set(['application/json', 'application/xml', 'application/javascript']);
function isText(contentType: string | undefined): boolean {
  const type = (contentType ?? '').split(';', 1)[0]!.trim().toLowerCase();
  return type.startsWith('text/') || TEXT_TYPES.has(type);
}

/** Assigns `obj[key]`, as an own property even for `__proto__` (the event is JSON in Lambda). */
function put(obj: Record<string, string>, key: string, value: string): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}

/** Splits a request target (`/path?query`) into `rawPath` and `rawQueryString`. */
export function splitTarget(target: string): { rawPath: string; rawQueryString: string } {
  const q = target.indexOf('?');
  return q === -1
    ? { rawPath: decodePath(target), rawQueryString: '' }
    : { rawPath: decodePath(target.slice(0, q)), rawQueryString: target.slice(q + 1) };
}

/** Decodes percent-escapes in the path, except `%25`, as HTTP APIs build `rawPath`. */
function decodePath(raw: string): string {
  if (!raw.includes('%')) return raw;
  return raw.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    let out = '';
    let bytes: number[] = [];
    const flush = () => {
      out += Buffer.from(bytes).toString('utf8');
      bytes = [];
    };
    for (let i = 0; i < run.length; i += 3) {
      const byte = parseInt(run.slice(i + 1, i + 3), 16);
      if (byte === 0x25) {
        flush();
        out += '%25';
      } else bytes.push(byte);
    }
    flush();
    return out;
  });
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
let clfSecond = -1;
let clfText = '';
/** `requestContext.time`: the access-log (CLF) format, e.g. `12/Mar/2020:19:03:58 +0000`; computed once per second. */
function clfTime(epochMs: number): string {
  const second = Math.floor(epochMs / 1000);
  if (second !== clfSecond) {
    const d = new Date(second * 1000);
    const pad = (n: number) => String(n).padStart(2, '0');
    const date = `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}`;
    clfText = `${date}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
    clfSecond = second;
  }
  return clfText;
}

// Request and trace ids take their random bytes from a pool: one fill per few hundred requests
// instead of a call into OpenSSL for each.
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;
function randomText(bytes: number, encoding: 'base64' | 'hex'): string {
  if (poolOffset + bytes > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  poolOffset += bytes;
  return pool.toString(encoding, poolOffset - bytes, poolOffset);
}

/** An API Gateway request id: 16 base64 characters, like `JKJaXmPLvHcESHA=`. */
export function gatewayRequestId(): string {
  return randomText(11, 'base64');
}

/**
 * Builds the payload 2.0 event: header names lower-cased and repeated headers joined with commas,
 * Cookie headers moved to `cookies`, repeated query parameters joined with commas, absent fields
 * omitted (not null), and the headers API Gateway adds (x-forwarded-*, x-amzn-trace-id).
 */
export function toEvent(
  req: WireRequest,
  match: RouteMatch,
  api: ApiIdentity,
  requestId: string,
  now = Date.now(),
): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  let cookies: string[] | undefined;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const value = raw[i + 1]!;
    if (name === 'cookie') {
      for (const c of value.split(';')) {
        if (!c.trim()) continue;
        cookies ??= [];
        cookies.push(c.trim());
      }
      continue;
    }
    put(headers, name, Object.hasOwn(headers, name) ? `${headers[name]},${value}` : value);
  }
  headers['x-forwarded-for'] = headers['x-forwarded-for'] ? `${headers['x-forwarded-for']}, ${req.sourceIp}` : req.sourceIp;
  headers['x-forwarded-port'] = String(req.localPort);
  headers['x-forwarded-proto'] = 'http';
  headers['x-amzn-trace-id'] ??= `Root=1-${Math.floor(now / 1000).toString(16)}-${randomText(12, 'hex')}`;

  const { rawPath, rawQueryString } = req;
  let queryStringParameters: Record<string, string> | undefined;
  if (rawQueryString) {
    queryStringParameters = {};
    for (const [name, value] of new URLSearchParams(rawQueryString)) {
      put(queryStringParameters, name, Object.hasOwn(queryStringParameters, name) ? `${queryStringParameters[name]},${value}` : value);
    }
  }

  const host = (headers.host ?? 'localhost').replace(/:\d+$/, '');
  const event: APIGatewayProxyEventV2 = {
    version: '2.0',
    routeKey: match.route.routeKey,
    rawPath,
    rawQueryString,
    headers,
    requestContext: {
      accountId: api.accountId,
      apiId: api.apiId,
      domainName: host,
      domainPrefix: host.split('.', 1)[0]!,
      http: {
        method: req.method,
        path: rawPath,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.sourceIp,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId,
      routeKey: match.route.routeKey,
      stage: '$default',
      time: clfTime(now),
      timeEpoch: now,
    },
    isBase64Encoded: false,
  };
  if (cookies) event.cookies = cookies;
  if (queryStringParameters) event.queryStringParameters = queryStringParameters;
  if (match.pathParameters) event.pathParameters = match.pathParameters;
  if (req.body.length > 0) {
    const text = isText(headers['content-type']);
    event.body = req.body.toString(text ? 'utf8' : 'base64');
    event.isBase64Encoded = !text;
  }
  return event;
}

const FRAMING = new Set(['content-length', 'transfer-encoding', 'connection']);

/**
 * Maps a function result to the response: a result with `statusCode` is used as is (`cookies`
 * become set-cookie headers, before any set-cookie in `headers`; a base64 body is decoded); any
 * other result is a 200 `application/json` response whose body is the result (a string as is,
 * anything else as JSON). Throws {@link MalformedLambdaResponse} for what API Gateway refuses.
 */
export function fromResult(result: unknown): WireResponse {
  if (result === null || typeof result !== 'object' || !('statusCode' in result)) {
    const body = typeof result === 'string' ? result : (JSON.stringify(result) ?? 'null');
    return { statusCode: 200, headers: { 'content-type': 'application/json' }, body };
  }
  const r = result as { statusCode: unknown; headers?: unknown; cookies?: unknown; body?: unknown; isBase64Encoded?: unknown };
  if (!Number.isInteger(r.statusCode) || (r.statusCode as number) < 100 || (r.statusCode as number) > 599)
    throw new MalformedLambdaResponse('statusCode is not an HTTP status');
  if (r.body !== undefined && r.body !== null && typeof r.body !== 'string') throw new MalformedLambdaResponse('body is not a string');
  if (r.cookies !== undefined && !(Array.isArray(r.cookies) && r.cookies.every((c) => typeof c === 'string')))
    throw new MalformedLambdaResponse('cookies is not a list of strings');
  const headers: Record<string, string | string[]> = {};
  const setCookie: string[] = [...((r.cookies as string[] | undefined) ?? [])];
  for (const [name, value] of Object.entries((r.headers ?? {}) as Record<string, unknown>)) {
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean')
      throw new MalformedLambdaResponse(`header ${name} is not a scalar`);
    const lower = name.toLowerCase();
    // Framing is the front's job: the body's length is computed from the body actually sent.
    if (FRAMING.has(lower)) continue;
    if (lower === 'set-cookie') setCookie.push(String(value));
    else headers[lower] = String(value);
  }
  if (setCookie.length) headers['set-cookie'] = setCookie;
  const text = (r.body as string | undefined | null) ?? '';
  return { statusCode: r.statusCode as number, headers, body: r.isBase64Encoded === true ? Buffer.from(text, 'base64') : text };
}

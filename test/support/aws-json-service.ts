// The server half of the AWS JSON 1.1 protocol (POST /, `X-Amz-Target: <Service>.<Operation>`,
// `Content-Type: application/x-amz-json-1.1`, errors as `{ "__type", "message" }` plus the
// `x-amzn-ErrorType` header), shared by the KMS and Cognito Identity stand-ins.
import { randomUUID } from 'node:crypto';
import { listen, readBody } from './http-server.ts';

/** An error as the service would return it: the AWS error name and the HTTP status. */
export class AwsServiceError extends Error {
  readonly type: string;
  readonly status: number;
  constructor(type: string, message: string, status = 400) {
    super(message);
    this.type = type;
    this.status = status;
  }
}

export type Operation = (input: Record<string, unknown>, request: { signed: boolean }) => unknown;

export interface AwsJsonService {
  url: string;
  /** Calls received per operation (and per path for GETs). */
  calls: Record<string, number>;
  /** The last operation's parsed input. */
  readonly lastRequest: Record<string, unknown> | undefined;
  /** The access key id the last operation was signed with (`Credential=<AKID>/…`), if signed. */
  readonly lastAccessKeyId: string | undefined;
  /** Makes the next `count` calls of `operation` (or of every operation with `*`) fail with `type`. */
  failNext(operation: string, type: string, count?: number, status?: number): void;
  /** Rewrites the next successful answer of `operation` (a service misbehaving without an error). */
  alterNext(operation: string, alter: (output: Record<string, unknown>) => Record<string, unknown>): void;
  close(): Promise<void>;
}

export async function serveAwsJson(options: {
  /** The X-Amz-Target prefix, e.g. `TrentService`. */
  target: string;
  operations: Record<string, Operation>;
  /** The service's 500 error name, e.g. `KMSInternalException`. */
  internalError: string;
  /** Answers GET requests (e.g. an issuer's discovery documents); undefined → 404. */
  get?: (path: string) => unknown;
}): Promise<AwsJsonService> {
  const calls: Record<string, number> = {};
  const failures: { operation: string; type: string; count: number; status: number }[] = [];
  const state: { lastRequest: Record<string, unknown> | undefined; lastAccessKeyId: string | undefined } = {
    lastRequest: undefined,
    lastAccessKeyId: undefined,
  };
  const alterations = new Map<string, (output: Record<string, unknown>) => Record<string, unknown>>();

  const server = await listen(async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (req.method === 'GET' && options.get) {
      calls[path] = (calls[path] ?? 0) + 1;
      const body = options.get(path);
      if (body === undefined) return void res.writeHead(404).end();
      return void res.writeHead(200, { 'Content-Type': 'application/json;charset=UTF-8' }).end(JSON.stringify(body));
    }
    const target = String(req.headers['x-amz-target'] ?? '');
    const operation = target.startsWith(`${options.target}.`) ? target.slice(options.target.length + 1) : '';
    calls[operation] = (calls[operation] ?? 0) + 1;
    const reply = (status: number, body: unknown, errorType?: string) => {
      res.writeHead(status, {
        'Content-Type': 'application/x-amz-json-1.1',
        'x-amzn-RequestId': randomUUID(),
        ...(errorType ? { 'x-amzn-ErrorType': errorType } : {}),
      });
      res.end(JSON.stringify(body));
    };
    try {
      const raw = await readBody(req);
      if (req.method !== 'POST' || path !== '/' || !String(req.headers['content-type']).startsWith('application/x-amz-json-1.1')) {
        throw new AwsServiceError('SerializationException', 'expected an AWS JSON 1.1 POST to /');
      }
      let input: Record<string, unknown>;
      try {
        input = JSON.parse(raw || '{}') as Record<string, unknown>;
      } catch {
        throw new AwsServiceError('SerializationException', 'request body is not JSON');
      }
      state.lastRequest = input;
      state.lastAccessKeyId = /^AWS4-HMAC-SHA256 Credential=([^/]+)\//.exec(String(req.headers.authorization ?? ''))?.[1];
      const op = options.operations[operation];
      if (!op) throw new AwsServiceError('UnknownOperationException', `Unknown operation ${operation}`);
      const failure = failures.find((f) => f.operation === operation || f.operation === '*');
      if (failure) {
        if (--failure.count <= 0) failures.splice(failures.indexOf(failure), 1);
        throw new AwsServiceError(failure.type, 'injected failure', failure.status);
      }
      const signed = String(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256 ');
      const output = (await op(input, { signed })) as Record<string, unknown>;
      const alter = alterations.get(operation);
      alterations.delete(operation);
      reply(200, alter ? alter(output) : output);
    } catch (e) {
      const err = e instanceof AwsServiceError ? e : new AwsServiceError(options.internalError, 'internal error', 500);
      reply(err.status, { __type: err.type, message: err.message }, err.type);
    }
  });

  return {
    url: server.url,
    calls,
    get lastRequest() {
      return state.lastRequest;
    },
    get lastAccessKeyId() {
      return state.lastAccessKeyId;
    },
    failNext: (operation, type, count = 1, status = type === options.internalError ? 500 : 400) =>
      failures.push({ operation, type, count, status }),
    alterNext: (operation, alter) => void alterations.set(operation, alter),
    close: server.close,
  };
}

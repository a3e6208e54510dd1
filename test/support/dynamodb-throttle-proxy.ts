// A DynamoDB front for fault tests: forwards every request byte for byte to a DynamoDB-compatible
// endpoint (dynalite), except the next N, which it answers as DynamoDB does when throttling
// (AWS JSON 1.0: HTTP 400, `__type` ProvisionedThroughputExceededException), and, on command, the
// next N BatchWriteItem calls, which it answers as a partly throttled batch: HTTP 200 with every
// request returned in `UnprocessedItems` and nothing written (DynamoDB API reference, BatchWriteItem).
// With `hotPartition(prefix)`, it throttles one partition as DynamoDB does a hot one: the items of a
// BatchWriteItem whose `pk` starts with the prefix come back unprocessed, the others are written.
// As a black hole (`blackHole()`), it accepts every connection and reads every request, then never
// answers, as a DynamoDB endpoint behind a stalled network path does, until `stop()`.
// It also counts the requests it forwards by operation (`X-Amz-Target: DynamoDB_20120810.<Op>`), so a
// test can assert how many store calls a path costs at the wire, not by trusting the code.
import { randomUUID } from 'node:crypto';
import { request, type IncomingMessage, type ServerResponse } from 'node:http';
import { listen } from './http-server.ts';

export interface ThrottleProxy {
  url: string;
  /** Requests seen, and how many of them were throttled / forwarded / held unanswered. */
  stats: { requests: number; throttled: number; forwarded: number; held: number };
  /** Requests forwarded so far, by operation. */
  operations: Record<string, number>;
  /** Throttles the next `count` requests (Infinity: until `stop()`), or only those of operation `only` (e.g. `PutItem`). */
  throttleNext(count: number, only?: string): void;
  /** Answers the next `count` BatchWriteItem calls with all of their items unprocessed. */
  leaveUnprocessed(count: number): void;
  /** Until `stop()`, returns every BatchWriteItem item whose `pk` starts with `prefix` unprocessed and writes the rest. */
  hotPartition(prefix: string): void;
  /** Reads every request from now on and never answers it (black hole), until `stop()`. */
  blackHole(): void;
  /** Forwards everything again. */
  stop(): void;
  close(): Promise<void>;
}

export async function startThrottleProxy(target: string): Promise<ThrottleProxy> {
  const upstream = new URL(target);
  let remaining = 0;
  let only: string | undefined;
  let unprocessed = 0;
  let holding = false;
  let hot: string | undefined;
  const operations: Record<string, number> = {};
  const stats = { requests: 0, throttled: 0, forwarded: 0, held: 0 };

  const server = await listen((req, res) => {
    stats.requests += 1;
    const op =
      String(req.headers['x-amz-target'] ?? '')
        .split('.')
        .pop() ?? '';
    if (holding) {
      // Read the request whole, then say nothing: the client's own timeout is all that ends it.
      stats.held += 1;
      req.resume();
      return;
    }
    if (remaining > 0 && (only === undefined || only === op)) {
      remaining -= 1;
      stats.throttled += 1;
      req.resume();
      req.on('end', () => {
        const body = JSON.stringify({
          __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
          message:
            'The level of configured provisioned throughput for the table was exceeded. Consider increasing your ' +
            'provisioning level with the UpdateTable API.',
        });
        res.writeHead(400, {
          'Content-Type': 'application/x-amz-json-1.0',
          'x-amzn-RequestId': randomUUID(),
          'Content-Length': Buffer.byteLength(body),
        });
        res.end(body);
      });
      return;
    }
    if (unprocessed > 0 && op === 'BatchWriteItem') {
      unprocessed -= 1;
      stats.throttled += 1;
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const { RequestItems } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { RequestItems: unknown };
        const body = JSON.stringify({ UnprocessedItems: RequestItems });
        res.writeHead(200, {
          'Content-Type': 'application/x-amz-json-1.0',
          'x-amzn-RequestId': randomUUID(),
          'Content-Length': Buffer.byteLength(body),
        });
        res.end(body);
      });
      return;
    }
    if (hot !== undefined && op === 'BatchWriteItem') {
      const prefix = hot;
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => splitHotPartition(req, res, op, Buffer.concat(chunks), prefix));
      return;
    }
    stats.forwarded += 1;
    operations[op] = (operations[op] ?? 0) + 1;
    const proxied = request(
      { hostname: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    proxied.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(proxied);
  });

  type WriteRequests = Record<
    string,
    { PutRequest?: { Item?: { pk?: { S?: string } } }; DeleteRequest?: { Key?: { pk?: { S?: string } } } }[]
  >;

  // Writes the batch's other items through to the target and answers with the hot partition's
  // items added to whatever the target itself left unprocessed.
  function splitHotPartition(req: IncomingMessage, res: ServerResponse, op: string, body: Buffer, prefix: string): void {
    const batch = JSON.parse(body.toString('utf8')) as { RequestItems: WriteRequests };
    const held: WriteRequests = {};
    const rest: WriteRequests = {};
    for (const [table, requests] of Object.entries(batch.RequestItems)) {
      for (const r of requests) {
        const pk = r.PutRequest?.Item?.pk?.S ?? r.DeleteRequest?.Key?.pk?.S ?? '';
        const into = pk.startsWith(prefix) ? held : rest;
        into[table] ??= [];
        into[table].push(r);
      }
    }
    if (Object.keys(held).length > 0) stats.throttled += 1;
    const answer = (status: number, headers: Record<string, unknown>, out: Record<string, unknown>) => {
      const text = JSON.stringify(out);
      // The target's checksum was of its own body, not of this one.
      const { 'x-amz-crc32': _crc, 'content-length': _length, ...kept } = headers;
      res.writeHead(status, {
        ...kept,
        'Content-Type': 'application/x-amz-json-1.0',
        'Content-Length': String(Buffer.byteLength(text)),
      } as Record<string, string>);
      res.end(text);
    };
    if (Object.keys(rest).length === 0) {
      answer(200, { 'x-amzn-RequestId': randomUUID() }, { UnprocessedItems: held });
      return;
    }
    stats.forwarded += 1;
    operations[op] = (operations[op] ?? 0) + 1;
    const forwarded = Buffer.from(JSON.stringify({ ...batch, RequestItems: rest }));
    const { 'transfer-encoding': _te, ...headers } = req.headers;
    const proxied = request(
      {
        hostname: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: { ...headers, 'content-length': String(forwarded.length) },
      },
      (reply) => {
        const chunks: Buffer[] = [];
        reply.on('data', (c: Buffer) => chunks.push(c));
        reply.on('end', () => {
          const out = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { UnprocessedItems?: WriteRequests };
          if (reply.statusCode === 200) {
            const unprocessed: WriteRequests = { ...(out.UnprocessedItems ?? {}) };
            for (const [table, requests] of Object.entries(held)) unprocessed[table] = [...(unprocessed[table] ?? []), ...requests];
            out.UnprocessedItems = unprocessed;
          }
          answer(reply.statusCode ?? 502, reply.headers, out);
        });
      },
    );
    proxied.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    proxied.end(forwarded);
  }

  return {
    url: server.url,
    stats,
    operations,
    throttleNext: (count, op) => {
      remaining = count;
      only = op;
    },
    leaveUnprocessed: (count) => {
      unprocessed = count;
    },
    hotPartition: (prefix) => {
      hot = prefix;
    },
    blackHole: () => {
      holding = true;
    },
    stop: () => {
      remaining = 0;
      unprocessed = 0;
      holding = false;
      hot = undefined;
    },
    close: server.close,
  };
}

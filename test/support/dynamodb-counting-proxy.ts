// A DynamoDB front that forwards every request byte for byte to a DynamoDB-compatible endpoint
// (dynalite) and counts them by operation (`X-Amz-Target: DynamoDB_20120810.<Operation>`), so a
// test can assert how many store reads a path costs at the wire, not by trusting the code.
import { request } from 'node:http';
import { listen } from './http-server.ts';

/** DynamoDB operations that read items. */
export const READ_OPERATIONS: ReadonlySet<string> = new Set(['GetItem', 'Query', 'Scan', 'BatchGetItem', 'TransactGetItems']);

export interface CountingProxy {
  url: string;
  /** Requests forwarded so far, by operation. */
  operations: Record<string, number>;
  /** Read requests (see {@link READ_OPERATIONS}) forwarded so far. */
  reads(): number;
  close(): Promise<void>;
}

export async function startCountingProxy(target: string): Promise<CountingProxy> {
  const upstream = new URL(target);
  const operations: Record<string, number> = {};
  const server = await listen((req, res) => {
    const op = String(req.headers['x-amz-target'] ?? '').split('.').pop() ?? '';
    operations[op] = (operations[op] ?? 0) + 1;
    const proxied = request({ hostname: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    proxied.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(proxied);
  });
  return {
    url: server.url,
    operations,
    reads: () => Object.entries(operations).reduce((n, [op, count]) => n + (READ_OPERATIONS.has(op) ? count : 0), 0),
    close: server.close,
  };
}

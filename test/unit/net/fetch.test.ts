import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { createFetch, fetchLimited, UpstreamFetchError, type Fetch } from '../../../lib/net/fetch.ts';
import { listen } from '../../support/http-server.ts';
import { rejection } from '../../support/rejection.ts';

// The production fetch as the local run builds it: these upstreams listen on 127.0.0.1.
const localFetch = createFetch({ local: true });

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

const closers: (() => Promise<void>)[] = [];
const timers = new Set<NodeJS.Timeout>();

async function serve(handler: Handler): Promise<{ url: string; hits: string[] }> {
  const hits: string[] = [];
  const { url, close } = await listen((req, res) => {
    hits.push(req.url ?? '');
    handler(req, res);
  });
  closers.push(close);
  return { url, hits };
}

afterEach(async () => {
  for (const t of timers) clearInterval(t);
  timers.clear();
  await Promise.all(closers.splice(0).map((close) => close()));
});

const failure = (p: Promise<unknown>) => rejection(p, UpstreamFetchError);

const json =
  (body: string, type = 'application/json', status = 200): Handler =>
  (_req, res) => {
    res.writeHead(status, { 'content-type': type });
    res.end(body);
  };

describe('fetchLimited', () => {
  it('parses a JSON document', async () => {
    const { url } = await serve(json('{"issuer":"x"}'));
    await expect(fetchLimited(localFetch, url, { timeoutMs: 1000 })).resolves.toEqual({ issuer: 'x' });
  });

  it.each([
    ['application/jwk-set+json', 'application/jwk-set+json'],
    ['a +json type with parameters', 'application/vnd.example+json; charset=utf-8'],
    ['application/json with charset, upper case', 'Application/JSON; charset=UTF-8'],
  ])('accepts %s', async (_name, type) => {
    const { url } = await serve(json('{"keys":[]}', type));
    await expect(fetchLimited(localFetch, url, { timeoutMs: 1000 })).resolves.toEqual({ keys: [] });
  });

  it('sends the request with redirect manual, a signal and an Accept header', async () => {
    const seen: Parameters<Fetch>[1][] = [];
    const { url } = await serve(json('{}'));
    const recording: typeof localFetch = (u, init) => {
      seen.push(init);
      return localFetch(u, init);
    };
    await fetchLimited(recording, url, { timeoutMs: 1000 });
    expect(seen[0]).toMatchObject({ redirect: 'manual', headers: { accept: 'application/json' } });
    expect(seen[0]?.signal).toBeInstanceOf(AbortSignal);
  });

  it('times out when the server never answers', async () => {
    const { url } = await serve(() => undefined);
    const started = Date.now();
    expect((await failure(fetchLimited(localFetch, url, { timeoutMs: 300 }))).kind).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(1300);
  });

  it('refuses a 500', async () => {
    const { url } = await serve(json('{"error":"x"}', 'application/json', 500));
    const e = await failure(fetchLimited(localFetch, url, { timeoutMs: 1000 }));
    expect([e.kind, e.httpStatus]).toEqual(['status', 500]);
  });

  it('refuses a 404', async () => {
    const { url } = await serve(json('{}', 'application/json', 404));
    const e = await failure(fetchLimited(localFetch, url, { timeoutMs: 1000 }));
    expect([e.kind, e.httpStatus]).toEqual(['status', 404]);
  });

  it('refuses a 204 and other non-200 successes', async () => {
    const { url } = await serve((_req, res) => res.writeHead(204).end());
    expect((await failure(fetchLimited(localFetch, url, { timeoutMs: 1000 }))).kind).toBe('status');
  });

  it('refuses garbage served as JSON', async () => {
    const { url } = await serve(json('<html>not json</html>'));
    expect((await failure(fetchLimited(localFetch, url, { timeoutMs: 1000 }))).kind).toBe('json');
  });

  it('refuses invalid UTF-8', async () => {
    const { url } = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(Buffer.from([0x22, 0xff, 0xfe, 0x22]));
    });
    expect((await failure(fetchLimited(localFetch, url, { timeoutMs: 1000 }))).kind).toBe('json');
  });

  it.each([
    ['text/html', 'text/html'],
    ['text/plain', 'text/plain'],
    ['application/jsonp', 'application/jsonp'],
    ['a missing content type', undefined],
  ])('refuses %s', async (_name, type) => {
    const { url } = await serve((_req, res) => {
      res.writeHead(200, type ? { 'content-type': type } : {});
      res.end('{}');
    });
    expect((await failure(fetchLimited(localFetch, url, { timeoutMs: 1000 }))).kind).toBe('content_type');
  });

  it('refuses a body over the cap when Content-Length announces it, without reading it', async () => {
    const { url } = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(10 * 1024 * 1024) });
      res.write('{"a":"');
    });
    expect((await failure(fetchLimited(localFetch, url, { timeoutMs: 5000 }))).kind).toBe('too_large');
  });

  it('cuts a streamed 10 MB body at the cap, reading no chunk past the one that crosses it', async () => {
    let sent = 0;
    const { url } = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const pump = () => {
        while (sent < 10 * 1024 * 1024) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      res.on('error', () => undefined);
      pump();
    });
    // Counts what fetchLimited actually reads: the bytes of every chunk the body hands it. Work,
    // not time, is the property (timings belong in `npm run bench`).
    const read: number[] = [];
    const counting: Fetch = async (u, init) => {
      const res = await localFetch(u, init);
      const reader = res.body!.getReader();
      // highWaterMark 0: a chunk is pulled from the upstream only when fetchLimited asks for one.
      const body = new ReadableStream<Uint8Array>(
        {
          async pull(controller) {
            const { done, value } = await reader.read();
            if (done) return controller.close();
            read.push(value.byteLength);
            controller.enqueue(value);
          },
          cancel: (reason) => reader.cancel(reason),
        },
        { highWaterMark: 0 },
      );
      return { status: res.status, headers: res.headers, body };
    };
    const maxBytes = 100 * 1024;
    // `too_large`, not `timeout`: refused at the cap, well inside the 5 s deadline.
    expect((await failure(fetchLimited(counting, url, { timeoutMs: 5000, maxBytes }))).kind).toBe('too_large');
    // The reader stopped at the first chunk that took it past the cap, and buffered no more.
    const total = read.reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(maxBytes);
    expect(total - read.at(-1)!).toBeLessThanOrEqual(maxBytes);
    // The reader stopped early: the server could not push the whole 10 MB.
    expect(sent).toBeLessThan(10 * 1024 * 1024);
  });

  it('cuts a slow-drip body at the timeout, not when the body ends', async () => {
    const { url } = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('[');
      const t = setInterval(() => res.write(' '), 200);
      timers.add(t);
      res.on('close', () => clearInterval(t));
    });
    const started = Date.now();
    expect((await failure(fetchLimited(localFetch, url, { timeoutMs: 1000 }))).kind).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('refuses a redirect and does not follow it', async () => {
    const target = await serve(json('{"issuer":"elsewhere"}'));
    const { url } = await serve((_req, res) => {
      res.writeHead(302, { location: `${target.url}/jwks` });
      res.end();
    });
    const e = await failure(fetchLimited(localFetch, url, { timeoutMs: 1000 }));
    expect([e.kind, e.httpStatus]).toEqual(['redirect', 302]);
    expect(target.hits).toEqual([]);
  });

  it('refuses a 307 redirect', async () => {
    const { url } = await serve((_req, res) => res.writeHead(307, { location: 'http://169.254.169.254/' }).end());
    expect((await failure(fetchLimited(localFetch, url, { timeoutMs: 1000 }))).kind).toBe('redirect');
  });

  it('reports a refused connection as a network failure', async () => {
    const { url } = await serve(json('{}'));
    await closers.pop()!();
    expect((await failure(fetchLimited(localFetch, url, { timeoutMs: 1000 }))).kind).toBe('network');
  });

  it('enforces the deadline even when the Fetch port ignores the signal', async () => {
    const stuck: Fetch = () => new Promise<Response>(() => undefined);
    expect((await failure(fetchLimited(stuck, 'http://127.0.0.1:9/', { timeoutMs: 200 }))).kind).toBe('timeout');
  });

  it('keeps URL and body out of error messages', async () => {
    const { url } = await serve(json('secret-body-content', 'application/json', 500));
    const e = await failure(fetchLimited(localFetch, `${url}/path-with-secret`, { timeoutMs: 1000 }));
    expect(e.message).not.toMatch(/secret|127\.0\.0\.1/);
  });
});

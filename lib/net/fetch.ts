import { lookup as dnsLookup } from 'node:dns/promises';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { Readable } from 'node:stream';
import type { ReadableStream } from 'node:stream/web';
import { systemClock, type Clock } from '../clock.ts';
import { blockedAddressRange } from './issuer-url.ts';

/** The part of a Fetch API `Response` that {@link fetchLimited} reads (a `Response` is one). */
interface UpstreamResponse {
  status: number;
  type?: string;
  headers: { get(name: string): string | null };
  body: ReadableStream<Uint8Array> | globalThis.ReadableStream<Uint8Array> | null;
}

/**
 * HTTP port for outbound GETs to upstream issuers. Passed in so tests can count, fail or slow
 * requests. `redirect: 'manual'` is part of the type: callers may never follow redirects.
 */
export type Fetch = (
  url: string,
  init: { signal: AbortSignal; redirect: 'manual'; headers: Record<string, string> },
) => Promise<UpstreamResponse>;

/** Why an upstream document could not be used; stable, log-safe. */
export type FetchFailure = 'network' | 'timeout' | 'redirect' | 'status' | 'content_type' | 'too_large' | 'json' | 'blocked_address';

/**
 * Internal failure of {@link fetchLimited}. Never reaches the wire: callers map it to
 * `ServiceUnavailable`. The message names the failure and status only, never the body or URL,
 * because a URL handed to us by an upstream may carry data we do not want in logs.
 */
export class UpstreamFetchError extends Error {
  readonly kind: FetchFailure;
  readonly httpStatus: number | undefined;
  constructor(kind: FetchFailure, message: string, options?: { cause?: unknown; httpStatus?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'UpstreamFetchError';
    this.kind = kind;
    this.httpStatus = options?.httpStatus;
  }
}

/** One address a host name resolves to, as `dns.lookup(name, { all: true })` returns it. */
interface ResolvedAddress {
  address: string;
  family: number;
}

/** DNS port: every address `hostname` resolves to. Passed in so tests need no real DNS. */
export type Resolve = (hostname: string) => Promise<ResolvedAddress[]>;

const systemResolve: Resolve = (hostname) => dnsLookup(hostname, { all: true });

/** The refusal for a set of resolved addresses, or undefined when every one may be connected to. */
function refusal(addresses: ResolvedAddress[], local: boolean): UpstreamFetchError | undefined {
  // Log-safe like every UpstreamFetchError: the range name only, never the host or the address.
  if (addresses.length === 0) return new UpstreamFetchError('blocked_address', 'upstream host resolved to no address; refused');
  for (const { address } of addresses) {
    const range = blockedAddressRange(address, local);
    if (range) return new UpstreamFetchError('blocked_address', `upstream host resolves to a blocked address (${range}); refused`);
  }
  return undefined;
}

/**
 * A `lookup` for `net.connect`: resolves, refuses the whole host if ANY address is blocked (a
 * name with one public and one metadata address must not win a race to the metadata service),
 * and hands back only checked addresses, which are the ones the socket connects to. Checking at
 * connection time leaves no gap between check and use for DNS rebinding to exploit.
 */
function guardedLookup(resolve: Resolve, local: boolean): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname).then(
      (all) => {
        const error = refusal(all, local);
        if (error) return callback(error, '');
        const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : (options.family ?? 0);
        const usable = family === 0 ? all : all.filter((a) => a.family === family);
        if (usable.length === 0) return callback(Object.assign(new Error('no address of the requested family'), { code: 'ENOTFOUND' }), '');
        if (options.all) return callback(null, usable);
        return callback(null, usable[0]!.address, usable[0]!.family);
      },
      (e: NodeJS.ErrnoException) => callback(e, ''),
    );
  };
}

/**
 * Builds the production {@link Fetch}: a GET with node:http / node:https, which never follow
 * redirects and ask for no content encoding (so nothing is decompressed). Not the global `fetch`:
 * its first call loads undici, some 10 ms of a cold start on the exchange path.
 *
 * Every address the host resolves to is checked with `blockedAddressRange` (and an IP-literal
 * host, which Node connects to without a lookup, is checked the same way first); a blocked or
 * empty resolution fails with `UpstreamFetchError` kind `blocked_address` before any connection.
 * `local` allows loopback only, as in `checkIssuerUrl`.
 */
export function createFetch(opts: { local: boolean; resolve?: Resolve }): Fetch {
  const lookup = guardedLookup(opts.resolve ?? systemResolve, opts.local);
  // Own pools, configured like Node's global agents: a kept-alive socket is reused by host and
  // port alone, so a shared pool could hand us a socket some other code connected unchecked.
  const agents = {
    http: new HttpAgent({ keepAlive: true, scheduling: 'lifo', timeout: 5000 }),
    https: new HttpsAgent({ keepAlive: true, scheduling: 'lifo', timeout: 5000 }),
  };
  return (url, init) =>
    new Promise((resolve, reject) => {
      const target = new URL(url);
      const literal = target.hostname.replace(/^\[(.*)\]$/, '$1');
      const family = isIP(literal);
      const blocked = family === 0 ? undefined : refusal([{ address: literal, family }], opts.local);
      if (blocked) return reject(blocked);
      const https = target.protocol === 'https:';
      const request = https ? httpsRequest : httpRequest;
      const options = { method: 'GET', headers: init.headers, signal: init.signal, lookup, agent: https ? agents.https : agents.http };
      const req = request(target, options, (res) => {
        resolve({
          status: res.statusCode ?? 0,
          headers: {
            get: (name) => {
              const value = res.headers[name.toLowerCase()];
              return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
            },
          },
          body: Readable.toWeb(res) as ReadableStream<Uint8Array>,
        });
      });
      req.once('error', reject);
      req.end();
    });
}

/** Default cap on an upstream document: discovery documents and JWKS are a few KiB. */
const DEFAULT_MAX_BYTES = 100 * 1024;

/** `application/json` or any structured `+json` type such as `application/jwk-set+json` (RFC 6839 §3.1). */
function isJsonContentType(header: string | null): boolean {
  if (!header) return false;
  const essence = header.split(';', 1)[0]!.trim().toLowerCase();
  return essence === 'application/json' || /^application\/[a-z0-9!#$&^_.-]+\+json$/.test(essence);
}

/**
 * GETs `url` and parses its JSON body under hard limits: one deadline for the connection AND the
 * whole body read (a server dripping a byte a second is cut at `timeoutMs`), at most `maxBytes`
 * of body, status exactly 200 and a JSON content type.
 *
 * Redirects are refused, not followed (fail closed): a redirect could move the request to a host
 * that was never validated (e.g. cloud metadata). Issuers must serve their discovery document and
 * JWKS directly at the advertised URLs.
 *
 * @throws UpstreamFetchError on any failure.
 */
export async function fetchLimited(
  fetch: Fetch,
  url: string,
  opts: { timeoutMs: number; maxBytes?: number; clock?: Clock },
): Promise<unknown> {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const clock = opts.clock ?? systemClock;
  const deadline = clock.now() + opts.timeoutMs;
  const controller = new AbortController();
  // A real timer rather than AbortSignal.timeout(): it is cleared on success, so no stray
  // timers keep a Lambda invocation or a test process alive.
  const timer = setTimeout(() => controller.abort(), opts.timeoutMs);
  // Every await below races this promise, so even a Fetch port that ignores the signal
  // cannot stretch the request beyond the deadline.
  const aborted = new Promise<never>((_, reject) => {
    controller.signal.addEventListener('abort', () =>
      reject(new UpstreamFetchError('timeout', `upstream did not answer within ${opts.timeoutMs} ms`)),
    );
  });
  aborted.catch(() => undefined);
  try {
    let res: UpstreamResponse;
    try {
      res = await Promise.race([
        fetch(url, { signal: controller.signal, redirect: 'manual', headers: { accept: 'application/json' } }),
        aborted,
      ]);
    } catch (e) {
      if (e instanceof UpstreamFetchError) throw e;
      if (controller.signal.aborted) throw new UpstreamFetchError('timeout', `upstream did not answer within ${opts.timeoutMs} ms`);
      throw new UpstreamFetchError('network', 'upstream request failed', { cause: e });
    }
    const body = await readChecked(res, maxBytes, aborted, () => controller.signal.aborted || clock.now() > deadline);
    try {
      return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
    } catch {
      throw new UpstreamFetchError('json', 'upstream answered with invalid JSON');
    }
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
}

async function readChecked(res: UpstreamResponse, maxBytes: number, aborted: Promise<never>, timedOut: () => boolean): Promise<Uint8Array> {
  const refuse = (error: UpstreamFetchError): never => {
    // Release the connection without reading what the upstream wants to send (not awaited:
    // a misbehaving stream must not hold the caller past the deadline).
    res.body?.cancel().catch(() => undefined);
    throw error;
  };
  if (res.type === 'opaqueredirect' || (res.status >= 300 && res.status < 400)) {
    return refuse(
      new UpstreamFetchError('redirect', `upstream redirected (${res.status}); redirects are not followed`, { httpStatus: res.status }),
    );
  }
  if (res.status !== 200) {
    return refuse(new UpstreamFetchError('status', `upstream answered ${res.status}`, { httpStatus: res.status }));
  }
  if (!isJsonContentType(res.headers.get('content-type'))) {
    return refuse(new UpstreamFetchError('content_type', 'upstream answered with a non-JSON content type'));
  }
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    return refuse(new UpstreamFetchError('too_large', `upstream document exceeds ${maxBytes} bytes`));
  }
  if (!res.body) return refuse(new UpstreamFetchError('json', 'upstream answered without a body'));

  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      if (timedOut()) throw new UpstreamFetchError('timeout', 'upstream body read exceeded the deadline');
      const { done, value } = await Promise.race([reader.read(), aborted]);
      if (done) break;
      total += value.byteLength;
      // Stop as soon as the cap is passed: never buffer what the upstream streams beyond it.
      if (total > maxBytes) throw new UpstreamFetchError('too_large', `upstream document exceeds ${maxBytes} bytes`);
      chunks.push(value);
    }
  } catch (e) {
    reader.cancel().catch(() => undefined);
    if (e instanceof UpstreamFetchError) throw e;
    if (timedOut()) throw new UpstreamFetchError('timeout', 'upstream body read exceeded the deadline');
    throw new UpstreamFetchError('network', 'upstream body read failed', { cause: e });
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

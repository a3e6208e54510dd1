// SSRF through DNS: an issuer or jwks_uri host that looks public but RESOLVES to cloud metadata,
// a private range or loopback (DNS rebinding included). issuer-url.ts checks only the URL text, so
// the production fetch checks every resolved address when the socket is opened. The resolver is
// the injected port (no real DNS); the sockets, servers and node:http are real, and a TCP server
// on 127.0.0.1 proves that a refused host is never connected to.
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, isIP, type AddressInfo, type Server as TcpServer } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ServiceUnavailable } from '../../lib/errors.ts';
import { createFetch, fetchLimited, UpstreamFetchError, type Resolve } from '../../lib/net/fetch.ts';
import { UpstreamKeys } from '../../lib/upstream/key-cache.ts';
import { blockedAddressRange } from '../../lib/net/issuer-url.ts';
import { rejection } from '../support/rejection.ts';

const HOST = 'idp.example.com';
const PUBLIC_V4 = '93.184.216.34';
const PUBLIC_V6 = '2606:2800:220:1:248:1893:25c8:1946';

/** A resolver answering `addresses` for every name, recording the names it was asked for. */
function resolver(addresses: string[]): Resolve & { asked: string[] } {
  const asked: string[] = [];
  const resolve = async (hostname: string) => {
    asked.push(hostname);
    return addresses.map((address) => ({ address, family: isIP(address) }));
  };
  return Object.assign(resolve, { asked });
}

// A plain TCP listener on 127.0.0.1 (and ::1 when the host has IPv6) that counts connections:
// any socket a refused fetch opened towards loopback would land here.
const tcpServers: TcpServer[] = [];
let port = 0;
let connections = 0;

async function listen(host: string, wanted: number): Promise<number | undefined> {
  const server = createTcpServer((socket) => {
    connections += 1;
    socket.destroy();
  });
  return new Promise((resolve) => {
    server.once('error', () => resolve(undefined));
    server.listen(wanted, host, () => {
      tcpServers.push(server);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

beforeAll(async () => {
  port = (await listen('127.0.0.1', 0))!;
  await listen('::1', port);
});
afterAll(async () => {
  await Promise.all(tcpServers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
});
beforeEach(() => {
  connections = 0;
});

const failure = (p: Promise<unknown>) => rejection(p, UpstreamFetchError);

/** Fetches `HOST` (on the counting listener's port) with `addresses` as its DNS answer. */
async function refusedFetch(addresses: string[], local: boolean, scheme = 'http'): Promise<UpstreamFetchError> {
  const resolve = resolver(addresses);
  const fetch = createFetch({ local, resolve });
  const e = await failure(fetchLimited(fetch, `${scheme}://${HOST}:${port}/.well-known/openid-configuration`, { timeoutMs: 2000 }));
  expect(connections).toBe(0);
  expect(resolve.asked).toEqual([HOST]);
  expect(e.kind).toBe('blocked_address');
  for (const secret of [HOST, ...addresses]) expect(e.message).not.toContain(secret);
  return e;
}

// [name, resolved address, also blocked in local mode]
const blocked: [string, string, boolean][] = [
  ['the cloud metadata address 169.254.169.254', '169.254.169.254', true],
  ['private 10.0.0.5', '10.0.0.5', true],
  ['private 172.16.1.1', '172.16.1.1', true],
  ['private 192.168.1.1', '192.168.1.1', true],
  ['carrier-grade NAT 100.64.0.1', '100.64.0.1', true],
  ['this-network 0.0.0.0', '0.0.0.0', true],
  ['loopback 127.0.0.1', '127.0.0.1', false],
  ['IPv6 loopback ::1', '::1', false],
  ['unique-local fc00::1', 'fc00::1', true],
  ['the AWS IPv6 metadata address fd00:ec2::254', 'fd00:ec2::254', true],
  ['IPv6 link-local fe80::1', 'fe80::1', true],
  ['IPv6 link-local with a zone index fe80::1%lo', 'fe80::1%lo', true],
  ['IPv4-mapped metadata ::ffff:169.254.169.254', '::ffff:169.254.169.254', true],
  ['IPv4-mapped loopback ::ffff:127.0.0.1', '::ffff:127.0.0.1', true],
  ['NAT64 metadata 64:ff9b::a9fe:a9fe', '64:ff9b::a9fe:a9fe', true],
];

describe('blockedAddressRange', () => {
  it.each(blocked)('names the range of %s', (_name, address, inLocal) => {
    expect(blockedAddressRange(address, false)).toEqual(expect.any(String));
    expect(blockedAddressRange(address, true) !== undefined).toBe(inLocal);
  });

  it.each([
    ['a public IPv4 address', PUBLIC_V4],
    ['a public IPv6 address', PUBLIC_V6],
  ])('lets %s through in both modes', (_name, address) => {
    expect(blockedAddressRange(address, false)).toBeUndefined();
    expect(blockedAddressRange(address, true)).toBeUndefined();
  });

  it.each([
    ['a host name', HOST],
    ['an out-of-range IPv4 address', '256.1.1.1'],
    ['an empty string', ''],
  ])('refuses %s, which is not an IP address (fail closed)', (_name, address) => {
    expect(blockedAddressRange(address, true)).toBe('not an IP address');
  });
});

describe('the production fetch refuses, without connecting, a host name that resolves to', () => {
  it.each(blocked)('%s', async (_name, address) => {
    await refusedFetch([address], false);
  });

  it.each(blocked.filter(([, , inLocal]) => inLocal))(
    '%s, in local mode, even after an allowed loopback address',
    async (_name, address) => {
      // Only the first address checked (or none) would connect to 127.0.0.1 and show up here.
      await refusedFetch(['127.0.0.1', address], true);
    },
  );

  it.each([
    ['a public and a private address', [PUBLIC_V4, '10.0.0.5']],
    ['a private and a public address', ['10.0.0.5', PUBLIC_V4]],
    ['a public IPv6 and the IPv6 metadata address', [PUBLIC_V6, 'fd00:ec2::254']],
    ['a public address and loopback', [PUBLIC_V4, '127.0.0.1']],
  ])('%s', async (_name, addresses) => {
    await refusedFetch(addresses, false);
  });

  it('nothing at all (fail closed)', async () => {
    const e = await refusedFetch([], false);
    expect(e.message).toMatch(/no address/);
  });

  it.each([
    ['loopback', '127.0.0.1'],
    ['the cloud metadata address', '169.254.169.254'],
  ])('%s, over https too', async (_name, address) => {
    await refusedFetch([address], false, 'https');
  });

  it('names the range, for operators, but neither host nor address', async () => {
    expect((await refusedFetch(['169.254.169.254'], false)).message).toBe(
      'upstream host resolves to a blocked address (link-local / cloud metadata); refused',
    );
  });
});

describe('the production fetch checks an IP-literal host the same way', () => {
  it.each([
    ['loopback outside local mode', 'http://127.0.0.1:PORT/'],
    ['IPv6 loopback outside local mode', 'http://[::1]:PORT/'],
    ['the cloud metadata address', 'http://169.254.169.254/latest/meta-data/'],
    ['IPv4-mapped metadata', 'http://[::ffff:a9fe:a9fe]/latest/meta-data/'],
  ])('refuses %s without a lookup or a connection', async (_name, raw) => {
    const url = raw.replace('PORT', String(port));
    const resolve = resolver([PUBLIC_V4]);
    const e = await failure(fetchLimited(createFetch({ local: false, resolve }), url, { timeoutMs: 2000 }));
    expect(e.kind).toBe('blocked_address');
    expect(e.message).not.toMatch(/127\.0\.0\.1|::1|169\.254|a9fe/);
    expect(resolve.asked).toEqual([]);
    expect(connections).toBe(0);
  });
});

describe('the production fetch still fetches', () => {
  let http: HttpServer;
  let httpPort = 0;
  const seen: { host: string | undefined; localAddress: string | undefined }[] = [];

  beforeAll(async () => {
    http = createHttpServer((req, res) => {
      seen.push({ host: req.headers.host, localAddress: req.socket.localAddress });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"issuer":"ok"}');
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    httpPort = (http.address() as AddressInfo).port;
  });
  afterAll(async () => {
    http.closeAllConnections();
    await new Promise<void>((resolve) => http.close(() => resolve()));
  });
  beforeEach(() => {
    seen.length = 0;
  });

  it('a name resolving to loopback in local mode, connecting to the resolved address', async () => {
    const resolve = resolver(['127.0.0.1']);
    const doc = await fetchLimited(createFetch({ local: true, resolve }), `http://dev-issuer.example.test:${httpPort}/`, {
      timeoutMs: 2000,
    });
    expect(doc).toEqual({ issuer: 'ok' });
    expect(resolve.asked).toEqual(['dev-issuer.example.test']);
    // The name is only in the Host header: the socket went to the address the resolver gave.
    expect(seen).toEqual([{ host: `dev-issuer.example.test:${httpPort}`, localAddress: '127.0.0.1' }]);
  });

  it('an IP-literal loopback host in local mode, without a lookup', async () => {
    const resolve = resolver([]);
    await expect(
      fetchLimited(createFetch({ local: true, resolve }), `http://127.0.0.1:${httpPort}/`, { timeoutMs: 2000 }),
    ).resolves.toEqual({ issuer: 'ok' });
    expect(resolve.asked).toEqual([]);
    expect(seen).toHaveLength(1);
  });

  it('a name that does not resolve fails as a network error, not a refusal', async () => {
    const resolve: Resolve = async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' });
    };
    expect((await failure(fetchLimited(createFetch({ local: false, resolve }), `https://${HOST}/`, { timeoutMs: 2000 }))).kind).toBe(
      'network',
    );
  });
});

describe('a trusted issuer whose name resolves to a blocked address', () => {
  it('is answered like other fetch-time SSRF refusals (ServiceUnavailable, 503), never a 500, and not contacted', async () => {
    const keys = new UpstreamKeys({ fetch: createFetch({ local: false, resolve: resolver(['127.0.0.1']) }), clock: { now: () => 0 } });
    const e = await rejection(keys.getKey(`https://${HOST}:${port}`, { alg: 'RS256', kid: 'k1' }), ServiceUnavailable);
    expect((e as ServiceUnavailable).status).toBe(503);
    expect((e as ServiceUnavailable).message).not.toContain(HOST);
    expect(keys.stats().fetches).toBe(1);
    expect(connections).toBe(0);
  });
});

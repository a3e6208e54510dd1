import { constants, generateKeyPairSync, KeyObject, sign as nodeSign } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CompactEncrypt, exportJWK, exportSPKI, generateKeyPair, importJWK, SignJWT, type JWK, type JWTPayload } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ServiceUnavailable, SubjectTokenInvalid } from '../../../lib/errors.ts';
import { createFetch, type Fetch } from '../../../lib/net/fetch.ts';
import { UpstreamKeys } from '../../../lib/upstream/key-cache.ts';
import { verifyExternalToken, type VerifyExternalOptions } from '../../../lib/upstream/verify.ts';
import { listen } from '../../support/http-server.ts';
import { b64url, signJws, unsignedJws } from '../../support/jws.ts';
import { rejection } from '../../support/rejection.ts';

// The production fetch as the local run builds it: these upstreams listen on 127.0.0.1.
const localFetch = createFetch({ local: true });

const AUD = 'https://fedbroker.test';
const T0 = Date.UTC(2030, 0, 1);
const COOLDOWN = 30_000;

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
interface SigningKey {
  kid: string;
  alg: string;
  privateKey: CryptoKey | KeyObject;
  jwk: JWK;
}

const closers: (() => Promise<void>)[] = [];
async function serve(handler: Handler): Promise<string> {
  const { url, close } = await listen(handler);
  closers.push(close);
  return url;
}
afterAll(async () => {
  await Promise.all(closers.map((close) => close()));
});

async function signingKey(kid: string, alg: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

/** A compact JWS assembled by hand (test/support/jws.ts), so headers jose would refuse to produce can be tested. */
function rawJws(header: Record<string, unknown>, payload: JWTPayload | string, key?: SigningKey): string {
  return key ? signJws(key.alg, key.privateKey, header, payload) : unsignedJws(header, payload, b64url('not-a-signature'));
}

async function refused(p: Promise<unknown>, reason: string): Promise<SubjectTokenInvalid> {
  const e = await rejection(p, SubjectTokenInvalid);
  expect(e.reason).toBe(reason);
  return e;
}

/**
 * Runs `run` and counts the work it did on the token, for refusals that must come before any of
 * it (timings belong in `npm run bench`): base64 decodes (Buffer.from), JSON parses and WebCrypto
 * key derivations (PBES2 is PBKDF2 with the token's own p2c). `outcome` replays the settlement.
 */
async function workOf(
  run: () => Promise<unknown>,
): Promise<{ outcome: () => Promise<unknown>; work: { decodes: number; parses: number; derivations: number } }> {
  const from = vi.spyOn(Buffer, 'from');
  const parse = vi.spyOn(JSON, 'parse');
  const deriveBits = vi.spyOn(crypto.subtle, 'deriveBits');
  const deriveKey = vi.spyOn(crypto.subtle, 'deriveKey');
  let settled: { ok: true; value: unknown } | { ok: false; error: unknown };
  try {
    settled = { ok: true, value: await run() };
  } catch (error) {
    settled = { ok: false, error };
  }
  const work = {
    decodes: from.mock.calls.filter((args) => ['base64url', 'base64'].includes((args as unknown[])[1] as string)).length,
    parses: parse.mock.calls.length,
    derivations: deriveBits.mock.calls.length + deriveKey.mock.calls.length,
  };
  for (const spy of [from, parse, deriveBits, deriveKey]) spy.mockRestore();
  const outcome = () => (settled.ok ? Promise.resolve(settled.value) : Promise.reject(settled.error));
  return { outcome, work };
}

async function unavailable(p: Promise<unknown>): Promise<ServiceUnavailable> {
  const e = await rejection(p, ServiceUnavailable);
  expect((e as ServiceUnavailable).retryAfterSeconds).toBeGreaterThanOrEqual(1);
  return e as ServiceUnavailable;
}

describe('verifyExternalToken against oidc-provider', () => {
  let issuer: string;
  let keys: UpstreamKeys;
  const clock = { ms: Date.now(), now: () => clock.ms };

  beforeAll(async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    vi.spyOn(console, 'info').mockImplementation(() => undefined);
    const { default: Provider } = await import('oidc-provider');
    const opKey = await signingKey('op-1', 'RS256');
    let handler: Handler = (_req, res) => res.writeHead(503).end();
    issuer = await serve((req, res) => handler(req, res));
    const provider = new Provider(issuer, {
      clients: [{ client_id: 'c', client_secret: 's', grant_types: ['client_credentials'], redirect_uris: [], response_types: [] }],
      features: {
        clientCredentials: { enabled: true },
        resourceIndicators: {
          enabled: true,
          defaultResource: () => AUD,
          getResourceServerInfo: () => ({ scope: 'api', audience: AUD, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } }),
        },
      },
      jwks: { keys: [{ ...(await exportJWK(opKey.privateKey)), kid: opKey.kid, alg: 'RS256', use: 'sig' }] },
    });
    handler = provider.callback();
  });
  afterAll(() => vi.restoreAllMocks());
  beforeEach(() => {
    clock.ms = Date.now();
    keys = new UpstreamKeys({ clock, local: true });
  });

  async function accessToken(): Promise<string> {
    const res = await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from('c:s').toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials&scope=api',
    });
    expect(res.status).toBe(200);
    return ((await res.json()) as { access_token: string }).access_token;
  }

  it('verifies a client_credentials JWT access token (typ at+jwt)', async () => {
    const { header, claims } = await verifyExternalToken(await accessToken(), { keys, clock, issuer, audiences: [AUD] });
    expect(header).toMatchObject({ alg: 'RS256', kid: 'op-1', typ: 'at+jwt' });
    expect(claims).toMatchObject({ iss: issuer, aud: AUD, sub: 'c', client_id: 'c' });
    expect(keys.stats().fetches).toBe(1);
  });

  it('refuses its token for another audience', async () => {
    await refused(verifyExternalToken(await accessToken(), { keys, clock, issuer, audiences: ['https://other.test'] }), 'audience');
  });

  it('refuses its token when the trusted issuer has a trailing slash', async () => {
    await refused(verifyExternalToken(await accessToken(), { keys, clock, issuer: `${issuer}/`, audiences: [AUD] }), 'issuer');
    expect(keys.stats().fetches).toBe(0);
  });

  it('refuses its token once expired (fake clock moved past exp + skew)', async () => {
    const token = await accessToken();
    clock.ms += 3600_000;
    await refused(verifyExternalToken(token, { keys, clock, issuer, audiences: [AUD] }), 'expired');
  });
});

describe('verifyExternalToken against a controlled upstream', () => {
  const upstream = {
    issuer: '',
    published: [] as JWK[],
    down: false,
    discoveryOverride: undefined as Record<string, unknown> | undefined,
    hits: [] as string[],
  };
  const attackerHits: string[] = [];
  let attacker: string;
  let rsa: SigningKey;
  let rsa2: SigningKey;
  let ec: SigningKey;
  let evil: SigningKey;
  let requests: string[];
  let fetchPort: Fetch;
  let keys: UpstreamKeys;
  const clock = { ms: T0, now: () => clock.ms };
  const nowS = () => Math.floor(clock.ms / 1000);

  beforeAll(async () => {
    [rsa, rsa2, ec, evil] = await Promise.all([
      signingKey('k1', 'RS256'),
      signingKey('k2', 'RS256'),
      signingKey('e1', 'ES256'),
      signingKey('k1', 'ES256'),
    ]);
    upstream.issuer = await serve((req, res) => {
      upstream.hits.push(req.url ?? '');
      const send = (status: number, body: unknown) =>
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (upstream.down) return send(503, { error: 'down' });
      if (req.url === '/.well-known/openid-configuration') {
        return send(200, upstream.discoveryOverride ?? { issuer: upstream.issuer, jwks_uri: `${upstream.issuer}/jwks` });
      }
      if (req.url === '/jwks') return send(200, { keys: upstream.published });
      return send(404, {});
    });
    attacker = await serve((req, res) => {
      attackerHits.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [evil.jwk] }));
    });
  });

  beforeEach(() => {
    clock.ms = T0;
    Object.assign(upstream, { published: [rsa.jwk, ec.jwk], down: false, discoveryOverride: undefined, hits: [] });
    attackerHits.length = 0;
    requests = [];
    fetchPort = (url, init) => {
      requests.push(url);
      return localFetch(url, init);
    };
    keys = new UpstreamKeys({ fetch: fetchPort, clock, local: true });
  });

  const claims = (extra: JWTPayload = {}): JWTPayload => ({
    iss: upstream.issuer,
    aud: AUD,
    sub: 'repo:org/app:ref:refs/heads/main',
    iat: nowS(),
    exp: nowS() + 300,
    ...extra,
  });
  const signed = (extra: JWTPayload = {}, key: SigningKey = rsa, header: Record<string, unknown> = {}) =>
    new SignJWT(claims(extra)).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT', ...header }).sign(key.privateKey);
  const verify = (token: string, over: Partial<VerifyExternalOptions> = {}) =>
    verifyExternalToken(token, { keys, clock, issuer: upstream.issuer, audiences: [AUD], ...over });
  const warm = async () => expect((await verify(await signed())).claims.iss).toBe(upstream.issuer);

  describe('accepts', () => {
    it('a valid RS256 token', async () => {
      const { claims: c, header } = await verify(await signed());
      expect(c.sub).toBe('repo:org/app:ref:refs/heads/main');
      expect(header.kid).toBe('k1');
      expect(requests).toEqual([`${upstream.issuer}/.well-known/openid-configuration`, `${upstream.issuer}/jwks`]);
    });

    it('a valid ES256 token', async () => {
      await expect(verify(await signed({}, ec))).resolves.toBeTruthy();
    });

    // The signature is checked with node:crypto (lib/upstream/verify.ts): every family and size.
    it.each(['RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES384', 'ES512'])('a valid %s token', async (alg) => {
      const key = await signingKey(`k-${alg}`, alg);
      upstream.published = [key.jwk];
      await expect(verify(await signed({}, key))).resolves.toBeTruthy();
    });

    it('an aud array containing one accepted audience', async () => {
      await expect(verify(await signed({ aud: ['https://x.test', AUD] }))).resolves.toBeTruthy();
    });

    it('a token expired less than the clock skew ago', async () => {
      const token = await signed({ exp: nowS() - 30 });
      await expect(verify(token)).resolves.toBeTruthy();
    });

    it('a token just under 16 KB', async () => {
      const token = await signed({ pad: 'x'.repeat(11_500) });
      expect(token.length).toBeLessThanOrEqual(16 * 1024);
      await expect(verify(token)).resolves.toBeTruthy();
    });

    it('cached keys for later tokens without another fetch', async () => {
      await warm();
      await warm();
      clock.ms += 9 * 60_000;
      await warm();
      expect(keys.stats().fetches).toBe(1);
    });
  });

  describe('claims', () => {
    it('wrong audience → audience', async () => refused(verify(await signed({ aud: 'https://other.test' })), 'audience'));
    it('missing audience → audience', async () => refused(verify(await signed({ aud: undefined })), 'audience'));
    it('wrong issuer: trailing slash → issuer, no fetch', async () => {
      await refused(verify(await signed({ iss: `${upstream.issuer}/` })), 'issuer');
      expect(requests).toEqual([]);
    });
    it('wrong issuer: case differs → issuer', async () => refused(verify(await signed({ iss: upstream.issuer.toUpperCase() })), 'issuer'));
    it('wrong issuer: https instead of http → issuer', async () => {
      await refused(verify(await signed({ iss: upstream.issuer.replace('http:', 'https:') })), 'issuer');
    });
    it('wrong issuer: an attacker issuer is never fetched', async () => {
      await refused(verify(await signed({ iss: attacker })), 'issuer');
      expect([requests, attackerHits]).toEqual([[], []]);
    });
    it('expired → expired', async () => refused(verify(await signed({ exp: nowS() - 61 })), 'expired'));
    it('nbf in the future → not_yet_valid', async () => refused(verify(await signed({ nbf: nowS() + 120 })), 'not_yet_valid'));
    it('iat in the future → issued_in_future', async () => refused(verify(await signed({ iat: nowS() + 120 })), 'issued_in_future'));
    it('too old by iat → too_old', async () => refused(verify(await signed({ iat: nowS() - 86_401, exp: nowS() + 60 })), 'too_old'));
    it('absurd exp without iat → too_old', async () => refused(verify(await signed({ iat: undefined, exp: 253_402_300_799 })), 'too_old'));
    it('missing exp → malformed', async () => refused(verify(await signed({ exp: undefined })), 'malformed'));
    it('string exp → malformed', async () =>
      refused(verify(rawJws({ alg: 'RS256', kid: 'k1' }, claims({ exp: String(nowS() + 60) as unknown as number }), rsa)), 'malformed'));
  });

  describe('algorithms and signatures', () => {
    it('alg none → algorithm', async () => refused(verify(rawJws({ alg: 'none' }, claims())), 'algorithm'));
    it('alg None → algorithm', async () => refused(verify(rawJws({ alg: 'None' }, claims())), 'algorithm'));
    it('unsigned token with a trailing dot → algorithm', async () => {
      await refused(verify(`${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(claims())}.`), 'algorithm');
      expect(requests).toEqual([]);
    });
    it('RS256 header with an empty signature → malformed', async () => {
      await refused(verify(`${b64url({ alg: 'RS256', kid: 'k1' })}.${b64url(claims())}.`), 'malformed');
    });
    it('HS256 signed with the RSA public key PEM as secret → algorithm', async () => {
      const pem = await exportSPKI((await importJWK(rsa.jwk, 'RS256')) as CryptoKey);
      const token = await new SignJWT(claims()).setProtectedHeader({ alg: 'HS256', kid: 'k1' }).sign(new TextEncoder().encode(pem));
      await refused(verify(token), 'algorithm');
      expect(requests).toEqual([]);
    });
    it('HS256 signed with the RSA public JWK bytes as secret → algorithm', async () => {
      const token = await new SignJWT(claims())
        .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
        .sign(new TextEncoder().encode(JSON.stringify(rsa.jwk)));
      await refused(verify(token), 'algorithm');
    });
    it('EdDSA → algorithm', async () => refused(verify(rawJws({ alg: 'EdDSA', kid: 'k1' }, claims())), 'algorithm'));
    it('signed by another key under a known kid → signature', async () => {
      await refused(verify(await new SignJWT(claims()).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).sign(rsa2.privateKey)), 'signature');
    });
    it.each(['PS256', 'ES256', 'ES512'])('%s, tampered payload → signature', async (alg) => {
      const key = await signingKey(`t-${alg}`, alg);
      upstream.published = [key.jwk];
      const [h, , s] = (await signed({}, key)).split('.');
      await refused(verify(`${h}.${b64url(claims({ sub: 'repo:org/admin:ref:refs/heads/main' }))}.${s}`), 'signature');
    });
    it('ES256 signature one byte short → signature', async () => {
      const [h, p, s] = (await signed({}, ec)).split('.');
      await refused(verify(`${h}.${p}.${Buffer.from(s!, 'base64url').subarray(1).toString('base64url')}`), 'signature');
    });
    it('ES256 signature in DER form instead of R‖S → signature', async () => {
      const input = `${b64url({ alg: 'ES256', kid: 'e1' })}.${b64url(claims())}`;
      const der = nodeSign('sha256', Buffer.from(input), KeyObject.from(ec.privateKey as CryptoKey));
      await refused(verify(`${input}.${der.toString('base64url')}`), 'signature');
    });
    it('RS256 token signed as PS256 (padding confusion) → signature', async () => {
      const input = `${b64url({ alg: 'RS256', kid: 'k1' })}.${b64url(claims())}`;
      const pss = nodeSign('sha256', Buffer.from(input), {
        key: KeyObject.from(rsa.privateKey as CryptoKey),
        padding: constants.RSA_PKCS1_PSS_PADDING,
      });
      await refused(verify(`${input}.${pss.toString('base64url')}`), 'signature');
    });
    it('tampered payload → signature', async () => {
      const [h, , s] = (await signed()).split('.');
      await refused(verify(`${h}.${b64url(claims({ sub: 'repo:org/admin:ref:refs/heads/main' }))}.${s}`), 'signature');
    });
    it('RS256 header over an ES256 key with the same kid → unknown_key (alg is bound to the key)', async () => {
      upstream.published = [{ ...ec.jwk, kid: 'k1' }];
      await refused(verify(await signed()), 'unknown_key');
    });
  });

  describe('header', () => {
    it('embedded jwk → header', async () => refused(verify(rawJws({ alg: 'ES256', kid: 'k1', jwk: evil.jwk }, claims(), evil)), 'header'));
    it('jku → header, attacker URL never fetched', async () => {
      await refused(verify(rawJws({ alg: 'ES256', kid: 'k1', jku: `${attacker}/jwks` }, claims(), evil)), 'header');
      expect(attackerHits).toEqual([]);
    });
    it('x5u → header', async () =>
      refused(verify(rawJws({ alg: 'RS256', kid: 'k1', x5u: `${attacker}/cert.pem` }, claims(), rsa)), 'header'));
    it('x5c → header', async () => refused(verify(rawJws({ alg: 'RS256', kid: 'k1', x5c: ['MIIB'] }, claims(), rsa)), 'header'));
    it('crit → header', async () => refused(verify(rawJws({ alg: 'RS256', kid: 'k1', crit: ['exp'], exp: 1 }, claims(), rsa)), 'header'));
    it('b64:false → header', async () =>
      refused(verify(rawJws({ alg: 'RS256', kid: 'k1', b64: false, crit: ['b64'] }, claims(), rsa)), 'header'));
    it('b64:false without crit → header', async () =>
      refused(verify(rawJws({ alg: 'RS256', kid: 'k1', b64: false }, claims(), rsa)), 'header'));
    it('10 KB kid → header, no fetch', async () => {
      await refused(verify(rawJws({ alg: 'RS256', kid: 'k'.repeat(10 * 1024) }, claims(), rsa)), 'header');
      expect(requests).toEqual([]);
    });
    it('kid with control characters → header', async () =>
      refused(verify(rawJws({ alg: 'RS256', kid: 'k1\u0000' }, claims(), rsa)), 'header'));
    it('numeric kid → header', async () => refused(verify(rawJws({ alg: 'RS256', kid: 1 }, claims(), rsa)), 'header'));
    it('kid path traversal → unknown_key (kid is only ever compared)', async () => {
      await refused(verify(rawJws({ alg: 'RS256', kid: '../../../../etc/passwd' }, claims(), rsa)), 'unknown_key');
      expect(requests.every((u) => u.startsWith(upstream.issuer))).toBe(true);
    });
  });

  describe('shape and size', () => {
    it('compact JWE (5 parts, dir) → jwe, no fetch', async () => {
      const jwe = await new CompactEncrypt(new TextEncoder().encode(JSON.stringify(claims())))
        .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
        .encrypt(new Uint8Array(32));
      await refused(verify(jwe), 'jwe');
      expect(keys.stats().fetches).toBe(0);
    });
    it('PBES2 JWE with p2c 1e9 → jwe before its header is read: no decode, parse, key derivation or fetch', async () => {
      const header = { alg: 'PBES2-HS512+A256KW', enc: 'A256GCM', p2c: 1e9, p2s: b64url('saltsaltsaltsalt'), kid: 'k1' };
      const token = [
        b64url(header),
        b64url('wrapped-key-bytes!!!!!!!!!!!!!!!'),
        b64url('iv-12-bytes!'),
        b64url('ciphertext'),
        b64url('tag-16-bytes!!!!'),
      ].join('.');
      const { outcome, work } = await workOf(() => verify(token));
      await refused(outcome(), 'jwe');
      // `jwe` alone would also come from reading the header and finding `enc`; the counters show
      // the five parts were refused first, before any of the work p2c could make expensive.
      expect(work).toEqual({ decodes: 0, parses: 0, derivations: 0 });
      expect([keys.stats().fetches, upstream.hits]).toEqual([0, []]);
    });
    it('3-part token with an enc header → jwe', async () =>
      refused(verify(rawJws({ alg: 'RS256', kid: 'k1', enc: 'A256GCM' }, claims(), rsa)), 'jwe'));
    it('16 KB + 1 token → too_large', async () => refused(verify(`${await signed()}`.padEnd(16 * 1024 + 1, 'A')), 'too_large'));
    it('1 MB token → too_large before any decode, parse or fetch', async () => {
      // One segment: were the size checked after the shape, this would be `malformed`.
      const { outcome, work } = await workOf(() => verify('eyJ'.padEnd(1024 * 1024, 'A')));
      await refused(outcome(), 'too_large');
      expect(work).toEqual({ decodes: 0, parses: 0, derivations: 0 });
      expect(keys.stats().fetches).toBe(0);
    });
    it('two segments → malformed', async () => refused(verify(`${b64url({ alg: 'RS256' })}.${b64url(claims())}`), 'malformed'));
    it('four segments → malformed', async () => refused(verify(`${await signed()}.AAAA`), 'malformed'));
    it('base64 (not url) alphabet → malformed', async () =>
      refused(verify(`${b64url({ alg: 'RS256', kid: 'k1' })}+.${b64url(claims())}.AAAA`), 'malformed'));
    it('padded base64url → malformed', async () => {
      const [h, p, s] = (await signed()).split('.');
      await refused(verify(`${h}.${p}==.${s}`), 'malformed');
    });
    it('non-canonical base64url trailing bits → malformed', async () => {
      const [h, p] = (await signed()).split('.');
      await refused(verify(`${h}.${p}.AB`), 'malformed');
    });
    it('non-JSON header → malformed', async () => refused(verify(`${b64url('{alg: RS256}')}.${b64url(claims())}.AAAA`), 'malformed'));
    it('non-JSON payload → malformed', async () =>
      refused(verify(rawJws({ alg: 'RS256', kid: 'k1' }, 'not json at all', rsa)), 'malformed'));
    it('payload that is a JSON array → malformed', async () =>
      refused(verify(rawJws({ alg: 'RS256', kid: 'k1' }, '[1,2]', rsa)), 'malformed'));
    it('duplicate alg in the header → malformed', async () => {
      await refused(verify(`${b64url('{"alg":"none","alg":"RS256","kid":"k1"}')}.${b64url(claims())}.AAAA`), 'malformed');
    });
    it('duplicate iss in the payload (escaped spelling) → malformed', async () => {
      const payload = JSON.stringify(claims()).replace('{', `{"\\u0069ss":"${attacker}",`);
      await refused(verify(rawJws({ alg: 'RS256', kid: 'k1' }, payload, rsa)), 'malformed');
    });
    it('repeated keys in nested objects are not duplicates', async () => {
      const payload = JSON.stringify(claims({ a: { x: 1 }, b: { x: 2 } }));
      await expect(verify(rawJws({ alg: 'RS256', kid: 'k1' }, payload, rsa))).resolves.toBeTruthy();
    });
  });

  describe('key cache', () => {
    it('unknown kid: at most one refetch per cooldown across 20 requests', async () => {
      await warm();
      clock.ms += COOLDOWN;
      const token = rawJws({ alg: 'RS256', kid: 'nope' }, claims(), rsa);
      for (let i = 0; i < 20; i++) await refused(verify(token), 'unknown_key');
      expect(keys.stats().fetches).toBe(2);
      await Promise.all(Array.from({ length: 20 }, () => refused(verify(token), 'unknown_key')));
      expect(keys.stats().fetches).toBe(2);
      clock.ms += COOLDOWN;
      await refused(verify(rawJws({ alg: 'RS256', kid: 'nope' }, claims(), rsa)), 'unknown_key');
      expect(keys.stats().fetches).toBe(3);
    });
    it('key rotation: a new kid is fetched once and then verifies', async () => {
      await warm();
      upstream.published = [rsa.jwk, rsa2.jwk];
      clock.ms += COOLDOWN;
      await expect(verify(await signed({}, rsa2))).resolves.toBeTruthy();
      await expect(verify(await signed({}, rsa2))).resolves.toBeTruthy();
      expect(keys.stats().fetches).toBe(2);
    });
    it('key rotation within the cooldown: unknown_key until the cooldown passes', async () => {
      await warm();
      upstream.published = [rsa.jwk, rsa2.jwk];
      await refused(verify(await signed({}, rsa2)), 'unknown_key');
      clock.ms += COOLDOWN;
      await expect(verify(await signed({}, rsa2))).resolves.toBeTruthy();
    });
    it('key with use enc is not used → unknown_key', async () => {
      upstream.published = [{ ...rsa.jwk, use: 'enc' }];
      await refused(verify(await signed()), 'unknown_key');
    });
    it('key whose alg differs from the token alg is not used → unknown_key', async () => {
      upstream.published = [{ ...rsa.jwk, alg: 'RS512' }];
      await refused(verify(await signed()), 'unknown_key');
    });
    it('RSA key under 2048 bits is not used → unknown_key', async () => {
      // jose refuses to generate one, so node:crypto makes it.
      const pair = generateKeyPairSync('rsa', { modulusLength: 1024 });
      const small: SigningKey = {
        kid: 'k1',
        alg: 'RS256',
        privateKey: pair.privateKey,
        jwk: { ...pair.publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'RS256' },
      };
      upstream.published = [small.jwk];
      await refused(verify(rawJws({ alg: 'RS256', kid: 'k1' }, claims(), small)), 'unknown_key');
    });
    it('outage with cached keys: stale-if-error keeps verifying', async () => {
      await warm();
      upstream.down = true;
      clock.ms += 11 * 60_000;
      await warm();
      expect(keys.stats().fetches).toBe(2);
      expect(upstream.hits.at(-1)).toBe('/.well-known/openid-configuration');
    });
    it('outage longer than stale-if-error → ServiceUnavailable', async () => {
      await warm();
      upstream.down = true;
      clock.ms += 6 * 3_600_000 + 1;
      await unavailable(verify(await signed()));
    });
    it('outage without cached keys → ServiceUnavailable with Retry-After', async () => {
      upstream.down = true;
      const e = await unavailable(verify(await signed()));
      expect(e.retryAfterSeconds).toBeLessThanOrEqual(30);
      expect(e.headers()).toEqual({ 'Retry-After': String(e.retryAfterSeconds) });
    });
    it('100 concurrent verifications during an outage → at most 1 fetch', async () => {
      upstream.down = true;
      const token = await signed();
      const results = await Promise.allSettled(Array.from({ length: 100 }, () => verify(token)));
      expect(results.every((r) => r.status === 'rejected' && r.reason instanceof ServiceUnavailable)).toBe(true);
      expect(keys.stats().fetches).toBe(1);
      expect(upstream.hits).toHaveLength(1);
    });
    it('recovery: after the upstream returns and the cooldown passes', async () => {
      upstream.down = true;
      await unavailable(verify(await signed()));
      upstream.down = false;
      clock.ms += 10_000;
      const e = await unavailable(verify(await signed()));
      expect(e.retryAfterSeconds).toBe(20);
      expect(keys.stats().fetches).toBe(1);
      clock.ms += 20_000;
      await warm();
      expect(keys.stats().fetches).toBe(2);
    });
    it('discovery naming another issuer → ServiceUnavailable', async () => {
      upstream.discoveryOverride = { issuer: `${upstream.issuer}/`, jwks_uri: `${upstream.issuer}/jwks` };
      await unavailable(verify(await signed()));
      expect(upstream.hits).toEqual(['/.well-known/openid-configuration']);
    });
    it('jwks_uri on another host → ServiceUnavailable, never fetched', async () => {
      upstream.discoveryOverride = { issuer: upstream.issuer, jwks_uri: `${attacker}/jwks` };
      await unavailable(verify(await signed()));
      expect(attackerHits).toEqual([]);
    });
    it('JWKS with more than 100 keys → ServiceUnavailable', async () => {
      upstream.published = Array.from({ length: 101 }, (_, i) => ({ ...rsa.jwk, kid: `k${i}` }));
      await unavailable(verify(await signed()));
    });
  });
});

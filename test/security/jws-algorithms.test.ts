// Algorithm attacks on subject tokens, end to end through POST /v1/token: unsigned tokens,
// RS/HS confusion with the issuer's own public key, genuine signatures under an `alg` the key is
// not published for, and forgeries of fedbroker's own access tokens.
import { generateKeyPairSync } from 'node:crypto';
import { exportJWK, exportSPKI, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { b64url, hmacJws, signJws, unsignedJws } from '../support/jws.ts';
import { expectSafeRefusal } from '../support/refusal.ts';
import { DISCOVERY_PATH, JWKS_PATH, startScriptedIssuer, type ScriptedIssuer } from '../support/scripted-issuer.ts';
import { ciRelationship, external, startExchangeEnv, TOKEN_TYPE, type ExchangeEnv } from '../support/security-env.ts';

const FEDBROKER = 'https://issuer.fedbroker.test';
let env: ExchangeEnv;
let rs: ScriptedIssuer;
let es: ScriptedIssuer;
let ps: ScriptedIssuer;
let adminToken: string;

beforeAll(async () => {
  env = await startExchangeEnv();
  [rs, es, ps] = await Promise.all([startScriptedIssuer(), startScriptedIssuer({ alg: 'ES256' }), startScriptedIssuer({ alg: 'PS256' })]);
  await env.admin.tenant('acme', [
    ciRelationship(rs.issuer),
    ciRelationship(es.issuer, { id: 'ci-es' }),
    ciRelationship(ps.issuer, { id: 'ci-ps' }),
  ]);
  // Warm every issuer's keys so refusals below are about the token, not a first fetch.
  for (const up of [rs, es, ps]) {
    const res = await env.exchange(external(await up.token({ sub: 'repo:acme/app' })));
    expect(res.status, res.text).toBe(200);
  }
  adminToken = (await env.exchange(external(await rs.token({ sub: 'repo:acme/app' })))).body.access_token as string;
});
afterAll(async () => {
  await Promise.all([rs.close(), es.close(), ps.close()]);
  await env.close();
});

const good = { sub: 'repo:acme/app' };
const fetches = (up: ScriptedIssuer) => (up.hits[DISCOVERY_PATH] ?? 0) + (up.hits[JWKS_PATH] ?? 0);

/** Posts `token` as an external subject token and asserts a safe refusal that cost the upstream nothing. */
async function refusedWithoutFetch(token: string, up: ScriptedIssuer = rs) {
  const before = fetches(up);
  const res = await env.exchange(external(token));
  expectSafeRefusal(res, { presented: [token], secrets: [up.host] });
  expect(fetches(up)).toBe(before);
}

describe('a trusted issuer signing properly', () => {
  it('is admitted (control for every refusal below)', async () => {
    const res = await env.exchange(external(await rs.token(good)));
    expect(res.status).toBe(200);
    expect(res.body.access_token).toMatch(/^eyJ/);
  });
});

describe('unsigned tokens', () => {
  const cases: [string, () => string][] = [
    ['refuses alg none with an empty signature', () => unsignedJws({ alg: 'none', typ: 'JWT' }, rs.claims(good))],
    ['refuses alg None (capitalised)', () => unsignedJws({ alg: 'None', typ: 'JWT' }, rs.claims(good))],
    ['refuses alg NONE (upper case)', () => unsignedJws({ alg: 'NONE' }, rs.claims(good))],
    ['refuses alg nOnE (mixed case)', () => unsignedJws({ alg: 'nOnE' }, rs.claims(good))],
    ['refuses alg none with the kid of a real key', () => unsignedJws({ alg: 'none', kid: rs.kid }, rs.claims(good))],
    ['refuses alg none carrying a genuine signature copied from another token', () => unsignedJws({ alg: 'none' }, rs.claims(good), 'SIG')],
    [
      'refuses an RS256 header whose signature was stripped (trailing dot)',
      () => unsignedJws({ alg: 'RS256', kid: rs.kid }, rs.claims(good)),
    ],
    ['refuses a token with only two parts and no trailing dot', () => `${b64url({ alg: 'none' })}.${b64url(rs.claims(good))}`],
    ['refuses an empty alg', () => unsignedJws({ alg: '', kid: rs.kid }, rs.claims(good), 'AAAA')],
    ['refuses a header without alg', () => unsignedJws({ kid: rs.kid, typ: 'JWT' }, rs.claims(good), 'AAAA')],
    ['refuses a non-string alg', () => unsignedJws({ alg: ['RS256'], kid: rs.kid }, rs.claims(good), 'AAAA')],
  ];
  it.each(cases)('%s', async (_name, make) => {
    let token = make();
    if (token.endsWith('.SIG')) token = token.replace(/SIG$/, (await rs.token(good)).split('.')[2]!);
    await refusedWithoutFetch(token);
  });
});

describe("RS/HS confusion: HMAC keyed with the issuer's public key", () => {
  const secrets: [string, () => Promise<Uint8Array | string>][] = [
    ['its SPKI PEM', () => rs.publicKeyPem()],
    ['its PEM without the trailing newline', async () => (await rs.publicKeyPem()).trimEnd()],
    ['its published JWK as JSON', async () => JSON.stringify(rs.jwk)],
    ['its modulus bytes', async () => Buffer.from(String(rs.jwk.n), 'base64url')],
  ];
  const algs = ['HS256', 'HS384', 'HS512'] as const;
  const table = algs.flatMap((alg) => secrets.map(([what, secret]) => [alg, what, secret] as const));
  it.each(table)('refuses an %s token signed with %s as the secret', async (alg, _what, secret) => {
    await refusedWithoutFetch(hmacJws(alg, await secret(), { kid: rs.kid, typ: 'JWT' }, rs.claims(good)));
  });

  it("refuses an HS256 token keyed with an ES256 issuer's public key", async () => {
    const pem = await exportSPKI((await importJWK(es.jwk, 'ES256')) as CryptoKey);
    await refusedWithoutFetch(hmacJws('HS256', pem, { kid: es.kid }, es.claims(good)), es);
  });
});

describe('a genuine signature under an alg the key is not published for', () => {
  it.each([
    ['PS256 over the RS256 key', 'PS256'],
    ['PS384 over the RS256 key', 'PS384'],
    ['PS512 over the RS256 key', 'PS512'],
    ['RS384 over the RS256 key', 'RS384'],
    ['RS512 over the RS256 key', 'RS512'],
  ])("refuses %s, signed with the issuer's own private key", async (_name, alg) => {
    const token = rs.signRaw({ alg, kid: rs.kid, typ: 'JWT' }, rs.claims(good), alg);
    expectSafeRefusal(await env.exchange(external(token)), { presented: [token], secrets: [rs.host] });
  });

  it("refuses RS256 over the PS256 key, signed with the issuer's own private key", async () => {
    const token = ps.signRaw({ alg: 'RS256', kid: ps.kid }, ps.claims(good), 'RS256');
    expectSafeRefusal(await env.exchange(external(token)), { presented: [token] });
  });

  it("refuses ES384 over the ES256 (P-256) key, signed with the issuer's own private key", async () => {
    const token = es.signRaw({ alg: 'ES384', kid: es.kid }, es.claims(good), 'ES384');
    expectSafeRefusal(await env.exchange(external(token)), { presented: [token] });
  });

  it('refuses an ES256 header naming the RSA key, signed with an attacker EC key', async () => {
    const attacker = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const token = signJws('ES256', attacker.privateKey, { alg: 'ES256', kid: rs.kid }, rs.claims(good));
    expectSafeRefusal(await env.exchange(external(token)), { presented: [token] });
  });

  it('refuses an RS256 header naming the EC key, signed with an attacker RSA key', async () => {
    const attacker = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const token = signJws('RS256', attacker.privateKey, { alg: 'RS256', kid: es.kid }, es.claims(good));
    expectSafeRefusal(await env.exchange(external(token)), { presented: [token] });
  });

  it('refuses EdDSA, which no supported issuer uses', async () => {
    const { privateKey } = await generateKeyPair('EdDSA');
    const token = await new SignJWT(rs.claims(good)).setProtectedHeader({ alg: 'EdDSA', kid: rs.kid }).sign(privateKey);
    await refusedWithoutFetch(token);
  });
});

describe('forged signatures', () => {
  it("refuses a token signed by an attacker key under the issuer's kid", async () => {
    const attacker = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const token = signJws('RS256', attacker.privateKey, { alg: 'RS256', kid: rs.kid }, rs.claims(good));
    expectSafeRefusal(await env.exchange(external(token)), { presented: [token] });
  });

  it('refuses a genuine token whose payload was swapped for an escalated one', async () => {
    const [h, , s] = (await rs.token({ sub: 'repo:other/app' })).split('.');
    const token = `${h}.${b64url(rs.claims(good))}.${s}`;
    expectSafeRefusal(await env.exchange(external(token)), { presented: [token] });
  });

  it('refuses a genuine token whose signature was truncated by one byte', async () => {
    const [h, p, s] = (await rs.token(good)).split('.');
    const sig = Buffer.from(s!, 'base64url');
    const token = `${h}.${p}.${sig.subarray(0, -1).toString('base64url')}`;
    expectSafeRefusal(await env.exchange(external(token)), { presented: [token] });
  });
});

describe("forgeries of fedbroker's own access tokens", () => {
  let jwk: JWK & { kid: string };
  const claims = () => {
    const now = Math.floor(Date.now() / 1000);
    return {
      iss: FEDBROKER,
      aud: FEDBROKER,
      sub: 'acme/ci/repo:acme/app',
      tenant_id: 'acme',
      trust: 'ci',
      scope: 'id-token:issue trust:admin',
      jti: crypto.randomUUID(),
      iat: now,
      exp: now + 600,
    };
  };
  beforeAll(async () => {
    const res = await fetch(`${env.gateway.url}/.well-known/jwks.json`);
    [jwk] = ((await res.json()) as { keys: (JWK & { kid: string })[] }).keys as [JWK & { kid: string }];
  });

  const forgeries: [string, () => Promise<string>][] = [
    [
      "an HS256 access token keyed with fedbroker's published PEM",
      async () =>
        hmacJws('HS256', await exportSPKI((await importJWK(jwk, jwk.alg)) as CryptoKey), { kid: jwk.kid, typ: 'at+jwt' }, claims()),
    ],
    [
      "an HS256 access token keyed with fedbroker's published JWK",
      async () => hmacJws('HS256', JSON.stringify(jwk), { kid: jwk.kid, typ: 'at+jwt' }, claims()),
    ],
    ['an alg none access token', async () => unsignedJws({ alg: 'none', kid: jwk.kid, typ: 'at+jwt' }, claims())],
    [
      "an access token signed by a trusted upstream under fedbroker's issuer",
      async () => rs.signRaw({ alg: 'RS256', kid: jwk.kid, typ: 'at+jwt' }, claims()),
    ],
    [
      'an access token with an embedded attacker jwk',
      async () => {
        const attacker = generateKeyPairSync('rsa', { modulusLength: 2048 });
        return signJws(
          'RS256',
          attacker.privateKey,
          { alg: 'RS256', kid: jwk.kid, typ: 'at+jwt', jwk: await exportJWK(attacker.publicKey) },
          claims(),
        );
      },
    ],
  ];

  it.each(forgeries)('refuses %s on the token endpoint', async (_name, forge) => {
    const token = await forge();
    const res = await env.exchange({
      subject_token: token,
      subject_token_type: TOKEN_TYPE.accessToken,
      requested_token_type: TOKEN_TYPE.idToken,
      audience: 'sts.amazonaws.com',
    });
    expectSafeRefusal(res, { presented: [token] });
  });

  it.each(forgeries)('refuses %s as a bearer token on the admin API with 401', async (_name, forge) => {
    const token = await forge();
    const res = await env.api('GET', '/v1/tenants/acme/trust-relationships', token);
    expectSafeRefusal(res, { status: 401, error: 'invalid_token', presented: [token] });
    expect(res.headers instanceof Headers && res.headers.get('www-authenticate')).toMatch(/^Bearer/);
  });

  it('still serves the genuine admin token (control)', async () => {
    expect((await env.api('GET', '/v1/tenants/acme/trust-relationships', adminToken)).status).toBe(200);
  });
});

// Header attacks on subject tokens, end to end through POST /v1/token: keys named by the token
// itself (jwk, jku, x5u, x5c), hostile kids, unknown kids as a refetch amplifier, crit/b64
// extensions and encrypted (JWE) tokens, including the PBES2 iteration-count bomb.
import { SUBJECT_TOKEN_REFUSED } from '../../lib/app/exchange.ts';
import { generateKeyPairSync } from 'node:crypto';
import { CompactEncrypt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { b64url, signJws, unsignedJws } from '../support/jws.ts';
import { expectSafeRefusal } from '../support/refusal.ts';
import { DISCOVERY_PATH, JWKS_PATH, startScriptedIssuer, type ScriptedIssuer } from '../support/scripted-issuer.ts';
import { ciRelationship, external, startExchangeEnv, type ExchangeEnv } from '../support/security-env.ts';

let env: ExchangeEnv;
let upstream: ScriptedIssuer;
let attacker: ScriptedIssuer;
const attackerKey = generateKeyPairSync('rsa', { modulusLength: 2048 });

beforeAll(async () => {
  env = await startExchangeEnv();
  [upstream, attacker] = await Promise.all([startScriptedIssuer(), startScriptedIssuer()]);
  await env.admin.tenant('acme', [ciRelationship(upstream.issuer)]);
  const warm = await env.exchange(external(await upstream.token({ sub: 'repo:acme/app' })));
  expect(warm.status, warm.text).toBe(200);
});
const rogues: ScriptedIssuer[] = [];
afterAll(async () => {
  await Promise.all([upstream.close(), attacker.close(), ...rogues.map((i) => i.close())]);
  await env.close();
});

const good = { sub: 'repo:acme/app' };
const attackerHits = () => Object.values(attacker.hits).reduce((a, b) => a + b, 0);
/** Key loads an issuer has served: discovery documents and JWKS. */
const loads = (issuer: ScriptedIssuer) => ({ discovery: issuer.hits[DISCOVERY_PATH] ?? 0, jwks: issuer.hits[JWKS_PATH] ?? 0 });

async function refused(token: string, extraSecrets: string[] = [], tenant = 'acme') {
  const res = await env.exchange(external(token, tenant));
  expectSafeRefusal(res, { presented: [token], secrets: [upstream.host, attacker.host, ...extraSecrets] });
  return res;
}

/** Control: the issuer's real kid is admitted on `tenant`, so the tenant trusts it and its keys load. */
async function expectAdmitted(issuer: ScriptedIssuer, tenant: string) {
  const res = await env.exchange(external(await issuer.token(good), tenant));
  expect(res.status, res.text).toBe(200);
}

// Each case gets a cold issuer trusted by a tenant of its own and an attacker server (`rogue`) of
// its own, so any fetch the refused token causes shows in exact counts: against a shared, warm
// issuer (or one inside its refetch cooldown) a verifier that loads keys before reading the header
// would pass. The rogue's JWKS serves the very key that signs the token, so a verifier that
// followed a jku there would find a working key and admit the token.
describe('keys named by the token itself', () => {
  type Parties = { trusted: ScriptedIssuer; rogue: ScriptedIssuer };
  const sources: [string, string, (p: Parties) => Record<string, unknown>][] = [
    ["an embedded jwk holding the attacker's public key", 'jwk', ({ rogue }) => ({ jwk: rogue.jwk })],
    ["a jku pointing at the attacker's JWKS", 'jku', ({ rogue }) => ({ jku: `${rogue.issuer}${JWKS_PATH}` })],
    [
      "a jku on the trusted issuer's own host but another path",
      'jku',
      ({ trusted }) => ({ jku: `${trusted.issuer}/attacker-upload/jwks.json` }),
    ],
    ["an x5u pointing at the attacker's certificate", 'x5u', ({ rogue }) => ({ x5u: `${rogue.issuer}/cert.pem` })],
    // Any x5c member must be refused before it is parsed, so its bytes need not be a real certificate.
    ['an x5c chain holding an attacker certificate', 'x5c', () => ({ x5c: [Buffer.from('attacker-certificate-der').toString('base64')] })],
  ];
  // Both servers publish their first key as `s1`: the trusted kid is also the rogue's own kid.
  const kids: [string, (p: Parties) => { kid?: string }][] = [
    ['a kid neither JWKS holds', () => ({ kid: 'attacker-key' })],
    ["the trusted key's kid", ({ trusted }) => ({ kid: trusted.kid })],
    ['no kid', () => ({})],
  ];
  const cases = sources.flatMap(([name, member, make]) => kids.map(([kidName, kid]) => [name, kidName, member, make, kid] as const));

  it.each(cases)('refuses %s with %s, signed with the attacker key, and fetches nothing', async (_name, _kidName, member, make, kid) => {
    const { upstream: trusted, tenant } = await env.freshUpstream();
    const rogue = await startScriptedIssuer();
    rogues.push(rogue);
    const parties = { trusted, rogue };
    const token = rogue.signRaw({ alg: 'RS256', typ: 'JWT', ...kid(parties), ...make(parties) }, trusted.claims(good));

    const res = await env.exchange(external(token, tenant));
    expectSafeRefusal(res, { status: 400, error: 'invalid_request', presented: [token], secrets: [trusted.host, rogue.host] });
    // One answer for every refused subject token (threat model I4); `member` names the case only.
    expect(res.body.error_description, member).toBe(SUBJECT_TOKEN_REFUSED);
    // Exactly nothing fetched, on any path: no discovery or JWKS of the trusted issuer (nor the
    // path a jku named on its host), nothing at the attacker's URL.
    expect(trusted.hits).toEqual({});
    expect(loads(trusted)).toEqual({ discovery: 0, jwks: 0 });
    expect(rogue.hits).toEqual({});

    // Control: the tenant trusts this issuer, so its genuine token is admitted, at the cost of
    // exactly one key load; the refusal above was the header's doing, not the cache's.
    await expectAdmitted(trusted, tenant);
    expect(loads(trusted)).toEqual({ discovery: 1, jwks: 1 });
    expect(rogue.hits).toEqual({});
  });
});

describe('hostile kids', () => {
  const kids: [string, string][] = [
    ['path traversal', '../../etc/passwd'],
    ['an absolute file path', '/etc/passwd'],
    ['a URL', 'https://attacker.example/jwks.json'],
    ['SQL-ish text', "' OR 1=1 --"],
    ['a NoSQL operator', '{"$ne":null}'],
    ['a prototype key', '__proto__'],
    ['a format string', '%s%s%s%n'],
    ['a CRLF header injection', 'k1\r\nSet-Cookie: x=1'],
    ['a NUL byte', 'k1\u0000'],
    ['10 KB of text', 'k'.repeat(10 * 1024)],
  ];
  it.each(kids)('refuses a kid with %s and echoes none of it', async (_name, kid) => {
    const before = attackerHits();
    const token = signJws('RS256', attackerKey.privateKey, { alg: 'RS256', kid }, upstream.claims(good));
    const res = await refused(token, kid.length >= 6 ? [kid] : []);
    expect(res.text).not.toContain('passwd');
    expect(attackerHits()).toBe(before);
  });

  it('refuses a 10 KB kid before any fetch', async () => {
    const { upstream: fresh, tenant } = await env.freshUpstream();
    await refused(fresh.signRaw({ alg: 'RS256', kid: 'x'.repeat(10 * 1024) }, fresh.claims(good)), [fresh.host], tenant);
    expect(fresh.hits).toEqual({});
    // Control: on this cold cache a token that gets past the header check does cost a key load.
    await expectAdmitted(fresh, tenant);
    expect(loads(fresh)).toEqual({ discovery: 1, jwks: 1 });
  });

  it('refuses a numeric kid', async () => refused(upstream.signRaw({ alg: 'RS256', kid: 7 }, upstream.claims(good))));
  it('refuses an empty kid', async () => refused(upstream.signRaw({ alg: 'RS256', kid: '' }, upstream.claims(good))));
});

// On a cold cache the design makes the counts exact: the first token makes the initial key load
// (one discovery document, one JWKS); a refetch for an unknown kid waits for the 30 s cooldown
// that load opened, so no later token fetches. Per cooldown that is at most one refetch beyond the
// initial load; the refetch after the cooldown is covered with a test clock in
// test/integration/upstream/verify.test.ts.
describe('unknown kids', () => {
  it('cost one key load for 20 sequential tokens, not one per token', async () => {
    const { upstream: fresh, tenant } = await env.freshUpstream();
    for (let i = 0; i < 20; i++) {
      await refused(fresh.signRaw({ alg: 'RS256', kid: `unknown-${i}` }, fresh.claims(good)), [fresh.host], tenant);
    }
    expect(loads(fresh)).toEqual({ discovery: 1, jwks: 1 });
    // Control: that load fetched the issuer's real keys, which now serve without another fetch.
    await expectAdmitted(fresh, tenant);
    expect(loads(fresh)).toEqual({ discovery: 1, jwks: 1 });
  });

  it('cost one key load for 20 concurrent tokens (one fetch in flight per issuer)', async () => {
    const { upstream: fresh, tenant } = await env.freshUpstream();
    const tokens = Array.from({ length: 20 }, (_, i) => fresh.signRaw({ alg: 'RS256', kid: `burst-${i}` }, fresh.claims(good)));
    const replies = await Promise.all(tokens.map((t) => env.exchange(external(t, tenant))));
    for (const [i, res] of replies.entries()) expectSafeRefusal(res, { presented: [tokens[i]!], secrets: [fresh.host] });
    expect(loads(fresh)).toEqual({ discovery: 1, jwks: 1 });
    await expectAdmitted(fresh, tenant);
    expect(loads(fresh)).toEqual({ discovery: 1, jwks: 1 });
  });
});

describe('extensions', () => {
  it.each([
    ['crit naming an unknown extension', { crit: ['urn:attacker:ext'], 'urn:attacker:ext': true }],
    ['crit naming a registered claim', { crit: ['exp'], exp: 1 }],
    ['an empty crit list', { crit: [] }],
    ['b64 false with crit (RFC 7797 unencoded payload)', { b64: false, crit: ['b64'] }],
    ['b64 false without crit', { b64: false }],
  ])('refuses %s', async (_name, extra) => {
    const header = { alg: 'RS256', kid: upstream.kid, ...extra };
    await refused(upstream.signRaw(header, upstream.claims(good)));
  });
});

describe('encrypted tokens (JWE)', () => {
  // Each on a cold issuer of its own: any key load the JWE caused would show in its counts.
  it('refuses a five-part JWE (dir, A256GCM) before any work', async () => {
    const { upstream: fresh, tenant } = await env.freshUpstream();
    const jwe = await new CompactEncrypt(new TextEncoder().encode(JSON.stringify(fresh.claims(good))))
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid: fresh.kid })
      .encrypt(new Uint8Array(32));
    await refused(jwe, [fresh.host], tenant);
    expect(fresh.hits).toEqual({});
    await expectAdmitted(fresh, tenant);
    expect(loads(fresh)).toEqual({ discovery: 1, jwks: 1 });
  });

  it('refuses a PBES2 JWE with p2c 1e9 before any work and without contacting the upstream', async () => {
    const { upstream: fresh, tenant } = await env.freshUpstream();
    const header = {
      alg: 'PBES2-HS512+A256KW',
      enc: 'A256GCM',
      p2c: 1e9,
      p2s: b64url('saltsaltsaltsalt'),
      kid: fresh.kid,
      iss: fresh.issuer,
    };
    const token = [
      b64url(header),
      b64url('wrapped-key-bytes-0123456789abcd'),
      b64url('twelve-bytes'),
      b64url(JSON.stringify(fresh.claims(good))),
      b64url('sixteen-byte-tag'),
    ].join('.');
    const res = await env.exchange(external(token, tenant));
    expectSafeRefusal(res, { presented: [token], secrets: [fresh.host] });
    expect(fresh.hits).toEqual({});
    await expectAdmitted(fresh, tenant);
    expect(loads(fresh)).toEqual({ discovery: 1, jwks: 1 });
  });

  it('refuses a three-part token whose header declares enc', async () => {
    await refused(upstream.signRaw({ alg: 'RS256', kid: upstream.kid, enc: 'A256GCM' }, upstream.claims(good)));
  });

  it('refuses a JWE algorithm in a three-part token', async () => {
    await refused(unsignedJws({ alg: 'RSA-OAEP-256', kid: upstream.kid }, upstream.claims(good), 'AAAA'));
  });
});

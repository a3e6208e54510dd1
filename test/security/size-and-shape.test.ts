// Size and shape attacks, end to end through POST /v1/token: oversized tokens and bodies,
// malformed base64url and JSON (signed by the trusted issuer, so only parsing stands in the way),
// duplicate members, deep nesting, wrongly typed claims and repeated form parameters.
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOKEN_EXCHANGE_GRANT } from '../../lib/oidc/discovery.ts';
import { MAX_JSON_DEPTH } from '../../lib/json-shape.ts';
import { postExchange } from '../support/exchange-client.ts';
import { b64url } from '../support/jws.ts';
import { expectSafeRefusal } from '../support/refusal.ts';
import { startScriptedIssuer, type ScriptedIssuer } from '../support/scripted-issuer.ts';
import { ciRelationship, external, startExchangeEnv, TOKEN_TYPE, type ExchangeEnv } from '../support/security-env.ts';

let env: ExchangeEnv;
let upstream: ScriptedIssuer;

beforeAll(async () => {
  env = await startExchangeEnv();
  upstream = await startScriptedIssuer();
  await env.admin.tenant('acme', [ciRelationship(upstream.issuer, { session_tags: { repo: { claim: 'repository', transitive: false } } })]);
  await env.admin.tenant('globex', [ciRelationship(upstream.issuer, { conditions: { StringLike: { sub: 'repo:globex/*' } } })]);
});
afterAll(async () => {
  await upstream.close();
  await env.close();
});

const good = { sub: 'repo:acme/app', repository: 'acme/app' };
const header = () => ({ alg: 'RS256', kid: upstream.kid, typ: 'JWT' });
const payloadJson = (extra: Record<string, unknown> = {}) => JSON.stringify(upstream.claims({ ...good, ...extra }));

async function refused(token: string, tenant = 'acme') {
  const res = await env.exchange(external(token, tenant));
  expectSafeRefusal(res, { presented: [token], secrets: [upstream.host] });
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** base64url of `json` whose last character carries set padding bits: decodes, but not canonically. */
function nonCanonical(json: string): string {
  const padded = json.padEnd(json.length + ((4 - (json.length % 3)) % 3), ' ');
  const encoded = b64url(padded);
  const last = ALPHABET.indexOf(encoded.at(-1)!);
  return `${encoded.slice(0, -1)}${ALPHABET[last + 1]}`;
}

const form = (params: [string, string][]) => params.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
const raw = (body: string, contentType = 'application/x-www-form-urlencoded') =>
  postExchange(env.gateway.url, {}, { rawBody: body, contentType });

describe('size', () => {
  it('admits a signed token just under 16 KB (control)', async () => {
    const token = await upstream.token({ ...good, pad: 'x'.repeat(11_000) });
    expect(token.length).toBeLessThan(16 * 1024);
    expect((await env.exchange(external(token))).status).toBe(200);
  });

  it('refuses a signed token just over 16 KB', async () => {
    const token = await upstream.token({ ...good, pad: 'x'.repeat(12_500) });
    expect(token.length).toBeGreaterThan(16 * 1024);
    await refused(token);
  });

  it('refuses a 1 MB token with 400 from the body cap, not 413 or 500', async () => {
    const token = `${b64url(header())}.${'A'.repeat(1024 * 1024)}.AAAA`;
    const res = await env.exchange(external(token));
    expectSafeRefusal(res, { presented: [token] });
  });

  it('refuses a 1 MB audience parameter with 400', async () => {
    const res = await env.exchange(external(await upstream.token(good), 'acme', { audience: 'a'.repeat(1024 * 1024) }));
    expectSafeRefusal(res);
  });

  it('refuses a body just over 64 KB even when the token inside is valid', async () => {
    const res = await raw(
      form([
        ['grant_type', TOKEN_EXCHANGE_GRANT],
        ['subject_token', await upstream.token(good)],
        ['subject_token_type', TOKEN_TYPE.idToken],
        ['tenant', 'acme'],
        ['x', 'y'.repeat(64 * 1024)],
      ]),
    );
    expectSafeRefusal(res);
  });
});

describe('malformed base64url', () => {
  const cases: [string, () => string][] = [
    ['standard base64 characters (+ and /)', () => `${b64url(header())}.${Buffer.from(payloadJson()).toString('base64')}`],
    ['padding', () => `${b64url(header())}.${b64url(payloadJson())}==`],
    ['whitespace inside a segment', () => `${b64url(header())}.${b64url(payloadJson()).replace(/^(.{10})/, '$1 ')}`],
    ['a percent-encoded segment', () => `${b64url(header())}.${encodeURIComponent(Buffer.from(payloadJson()).toString('base64'))}`],
    ['non-ASCII characters', () => `${b64url(header())}.${b64url(payloadJson())}\u00e9`],
    ['an empty payload segment', () => `${b64url(header())}.`],
    ['non-canonical trailing bits', () => `${b64url(header())}.${nonCanonical(payloadJson())}`],
  ];
  it.each(cases)('refuses a signed token whose payload has %s', async (_name, make) => {
    const [h, p] = make().split('.') as [string, string];
    await refused(upstream.signSegments(h, p));
  });

  it.each([
    ['only dots', '..'],
    ['four dots', '....'],
    ['a single segment', 'eyJhbGciOiJSUzI1NiJ9'],
    ['a leading space', ` ${'x'}`],
  ])('refuses a token made of %s', async (_name, token) => refused(token));

  it('refuses a genuine token with leading whitespace', async () => refused(` ${await upstream.token(good)}`));
  it('refuses a genuine token with a trailing newline', async () => refused(`${await upstream.token(good)}\n`));
  it('refuses a genuine token with a fourth segment appended', async () => refused(`${await upstream.token(good)}.AAAA`));
});

describe('malformed JSON', () => {
  const cases: [string, () => string][] = [
    ['text that is not JSON', () => 'not json at all'],
    ['a JSON array', () => '[1,2,3]'],
    ['JSON null', () => 'null'],
    ['a JSON string', () => '"repo:acme/app"'],
    ['a JSON number', () => '1234'],
    ['a byte-order mark', () => `\ufeff${payloadJson()}`],
    ['a trailing comma', () => payloadJson().replace(/}$/, ',}')],
    ['a truncated object', () => payloadJson().slice(0, -1)],
    ['single quotes', () => payloadJson().replaceAll('"', "'")],
    ['a JavaScript comment', () => payloadJson().replace('{', '{/*x*/')],
  ];
  it.each(cases)('refuses a signed payload that is %s', async (_name, payload) => {
    await refused(upstream.signRaw(header(), payload()));
  });

  it('refuses a signed payload that is not UTF-8', async () => {
    const bytes = Buffer.concat([Buffer.from(payloadJson().slice(0, -2)), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
    await refused(upstream.signSegments(b64url(header()), bytes.toString('base64url')));
  });

  it('refuses a signed header that is not JSON', async () => {
    await refused(upstream.signSegments(b64url('{alg: RS256}'), b64url(payloadJson())));
  });
});

describe('duplicate members', () => {
  it.each([
    ['sub', () => payloadJson().replace('{', '{"sub":"repo:globex/app",')],
    ['iss', () => payloadJson().replace('{', '{"iss":"https://attacker.example",')],
    ['aud', () => payloadJson().replace('{', '{"aud":"someone-else",')],
    ['exp', () => payloadJson().replace('{', '{"exp":9999999999,')],
    ['sub spelled with a unicode escape', () => payloadJson().replace('{', '{"\\u0073ub":"repo:globex/app",')],
  ])('refuses a signed payload with a duplicate %s', async (_name, payload) => {
    await refused(upstream.signRaw(header(), payload()), 'globex');
    await refused(upstream.signRaw(header(), payload()), 'acme');
  });

  it('refuses a signed header with a duplicate alg', async () => {
    await refused(upstream.signSegments(b64url(`{"alg":"none","alg":"RS256","kid":"${upstream.kid}"}`), b64url(payloadJson())));
  });

  it('refuses a signed header with a duplicate kid', async () => {
    await refused(upstream.signSegments(b64url(`{"alg":"RS256","kid":"other","kid":"${upstream.kid}"}`), b64url(payloadJson())));
  });
});

describe('deep nesting', () => {
  const nestedArray = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
  const nestedObject = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
  const withClaim = (name: string, json: string) => {
    const claims = upstream.claims(good);
    delete claims[name];
    return JSON.stringify(claims).replace('{', `{"${name}":${json},`);
  };

  it('refuses claims nested 10,000 deep (past the size cap) without crashing', async () => {
    await refused(upstream.signRaw(header(), withClaim('x', nestedArray(10_000))));
    await refused(upstream.signRaw(header(), withClaim('x', nestedObject(10_000))));
  });

  it('refuses a sub that is an array nested 5,000 deep (within the size cap)', async () => {
    const token = upstream.signRaw(header(), withClaim('sub', nestedArray(5_000)));
    expect(token.length).toBeLessThan(16 * 1024);
    await refused(token);
  });

  it('refuses a session tag claim that is an object nested 1,000 deep', async () => {
    const token = upstream.signRaw(header(), withClaim('repository', nestedObject(1_000)));
    expect(token.length).toBeLessThan(16 * 1024);
    await refused(token);
  });

  // The payload object is one level, so a claim may nest MAX_JSON_DEPTH - 1 levels: the limit
  // holds for claims no condition, template or tag reads too, because a value nested thousands
  // deep makes JSON.stringify and structuredClone throw, and a later log line or copy of the
  // verified claims would turn the refusal into a 500 (lib/json-shape.ts).
  it(`refuses an unused claim nested ${MAX_JSON_DEPTH} deep (payload depth ${MAX_JSON_DEPTH + 1}), well within the size cap`, async () => {
    for (const json of [nestedArray(MAX_JSON_DEPTH), nestedObject(MAX_JSON_DEPTH), nestedArray(5_000)]) {
      const token = upstream.signRaw(header(), withClaim('x', json));
      expect(token.length).toBeLessThan(16 * 1024);
      await refused(token);
    }
  });

  it(`admits a token with an unused claim nested ${MAX_JSON_DEPTH - 1} deep and carries none of it`, async () => {
    const token = upstream.signRaw(header(), withClaim('x', nestedArray(MAX_JSON_DEPTH - 1)));
    const res = await env.exchange(external(token));
    expect(res.status, res.text).toBe(200);
    expect(res.body.error).toBeUndefined();
    const issued = decodeJwt(res.body.access_token);
    expect(issued).not.toHaveProperty('x');
    expect(JSON.stringify(issued)).not.toContain('[[');
    // Claim for claim what a token without `x` earns, apart from per-token jti, iat and exp.
    const plain = await env.exchange(external(await upstream.token(good)));
    expect(plain.status, plain.text).toBe(200);
    const stable = ({ jti: _jti, iat: _iat, exp: _exp, ...rest }: Record<string, unknown>) => rest;
    expect(stable(issued)).toEqual(stable(decodeJwt(plain.body.access_token)));
    expect(stable(issued)).toMatchObject({ tenant_id: 'acme', trust: 'ci' });
  });
});

describe('wrongly typed claims', () => {
  const cases: [string, Record<string, unknown>][] = [
    ['exp as a numeric string', { exp: '9999999999' }],
    ['iat as a numeric string', { iat: String(Math.floor(Date.now() / 1000)) }],
    ['nbf as a numeric string', { nbf: '0' }],
    ['sub as an array of one string', { sub: ['repo:acme/app'] }],
    ['sub as a number', { sub: 12345 }],
    ['sub as an object', { sub: { toString: 'repo:acme/app' } }],
    ['sub as null', { sub: null }],
    ['sub as an empty string', { sub: '' }],
    ['repository (a session tag) as an array', { repository: ['acme/app'] }],
  ];
  it.each(cases)('refuses %s', async (_name, claims) => {
    await refused(upstream.signRaw(header(), payloadJson(claims)));
  });
});

describe('form bodies', () => {
  const base = async (): Promise<[string, string][]> => [
    ['grant_type', TOKEN_EXCHANGE_GRANT],
    ['subject_token', await upstream.token(good)],
    ['subject_token_type', TOKEN_TYPE.idToken],
    ['tenant', 'acme'],
  ];

  it('admits the base form (control)', async () => {
    expect((await raw(form(await base()))).status).toBe(200);
  });

  it.each([
    ['grant_type', TOKEN_EXCHANGE_GRANT],
    ['subject_token', 'attacker-token'],
    ['subject_token_type', TOKEN_TYPE.accessToken],
    ['tenant', 'globex'],
    ['requested_token_type', TOKEN_TYPE.idToken],
    ['audience', 'sts.amazonaws.com'],
    ['scope', 'trust:admin'],
  ])('refuses a repeated %s parameter (RFC 6749 §3.2)', async (name, value) => {
    const params = await base();
    const copies: [string, string][] = params.some(([n]) => n === name)
      ? [[name, value]]
      : [
          [name, value],
          [name, value],
        ];
    const res = await raw(form([...params, ...copies]));
    expectSafeRefusal(res, { presented: params.map(([, v]) => v).filter((v) => v.startsWith('eyJ')) });
  });

  it('refuses a parameter repeated under a percent-encoded name', async () => {
    const params = await base();
    const res = await raw(`${form(params)}&ten%61nt=globex`);
    expectSafeRefusal(res, { presented: [params[1]![1]] });
  });

  it('refuses a tenant parameter with a NUL byte', async () => {
    expectSafeRefusal(await env.exchange(external(await upstream.token(good), 'acme\u0000')));
  });

  it.each([
    ['a JSON body', 'application/json'],
    ['a multipart body', 'multipart/form-data; boundary=x'],
    ['a text body', 'text/plain'],
  ])('refuses %s on the token endpoint', async (_name, contentType) => {
    expectSafeRefusal(await raw(form(await base()), contentType));
  });
});

// Property tests: whatever an attacker posts, the token endpoint answers a 4xx without a token,
// and the upstream token verifier only ever rejects with its two documented errors.
import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ServiceUnavailable, SubjectTokenInvalid } from '../../lib/errors.ts';
import type { Fetch } from '../../lib/http/fetch.ts';
import { UpstreamKeys } from '../../lib/upstream/key-cache.ts';
import { UPSTREAM_ALGORITHMS, verifyExternalToken } from '../../lib/upstream/verify.ts';
import { startBroker, type TestBroker } from '../support/broker.ts';
import { httpEvent, lambdaContext } from '../support/events.ts';
import { b64url, signSegments } from '../support/jws.ts';
import { fromHandler } from '../support/refusal.ts';
import { startScriptedIssuer, type ScriptedIssuer } from '../support/scripted-issuer.ts';
import { ciRelationship, TOKEN_TYPE } from '../support/security-env.ts';
import { tenantAdmin } from '../support/tenants.ts';

type Handler = (e: ReturnType<typeof httpEvent>, c: ReturnType<typeof lambdaContext>) => Promise<{ statusCode?: number; headers?: Record<string, unknown>; body?: string }>;

const NUM_RUNS = 200;
const nowS = () => Math.floor(Date.now() / 1000);

/** Random compact tokens: free text, random segments, and structured JWS/JWE-looking tokens. */
function tokens(issuer: string, kid: string): fc.Arbitrary<string> {
  const segment = fc.uint8Array({ maxLength: 96 }).map((b) => Buffer.from(b).toString('base64url'));
  const header = fc.record(
    {
      alg: fc.oneof(fc.constantFrom(...UPSTREAM_ALGORITHMS, 'none', 'None', 'HS256', 'EdDSA', 'dir', 'PBES2-HS512+A256KW'), fc.string({ maxLength: 12 })),
      kid: fc.oneof(fc.constant(kid), fc.string({ maxLength: 40 }), fc.integer()),
      typ: fc.constantFrom('JWT', 'at+jwt', 'JOSE'),
      crit: fc.array(fc.string({ maxLength: 8 }), { maxLength: 2 }),
      jku: fc.webUrl(),
      enc: fc.constantFrom('A256GCM'),
      p2c: fc.integer({ min: 0, max: 2 ** 31 }),
    },
    { requiredKeys: [] },
  );
  const time = fc.oneof(fc.integer({ min: nowS() - 7200, max: nowS() + 7200 }), fc.integer(), fc.double(), fc.string({ maxLength: 12 }), fc.constant(null));
  const payload = fc.record(
    {
      iss: fc.oneof(fc.constant(issuer), fc.constant(`${issuer}/`), fc.webUrl(), fc.string({ maxLength: 20 }), fc.array(fc.constant(issuer), { maxLength: 2 })),
      aud: fc.oneof(fc.constant('fedbroker'), fc.string({ maxLength: 12 }), fc.array(fc.oneof(fc.constant('fedbroker'), fc.string({ maxLength: 8 }), fc.integer()), { maxLength: 3 })),
      sub: fc.oneof(fc.constant('repo:acme/app'), fc.string({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 20 }), fc.jsonValue({ maxDepth: 2 })),
      exp: time,
      iat: time,
      nbf: time,
      repository: fc.oneof(fc.constant('acme/app'), fc.jsonValue({ maxDepth: 2 })),
    },
    { requiredKeys: [] },
  );
  const json = (arb: fc.Arbitrary<unknown>) => arb.map((v) => b64url(JSON.stringify(v)));
  return fc.oneof(
    fc.string({ maxLength: 200 }),
    fc.string({ unit: 'binary', maxLength: 200 }),
    fc.tuple(segment, segment, segment).map((p) => p.join('.')),
    fc.tuple(json(header), json(payload), segment).map((p) => p.join('.')),
    fc.tuple(json(header), json(fc.jsonValue({ maxDepth: 4 })), fc.constantFrom('', 'AAAA', '.')).map((p) => p.join('.')),
    fc.tuple(json(header), segment, segment, segment, segment).map((p) => p.join('.')),
    fc.tuple(fc.constantFrom('eyJ', 'eyJhbGciOiJSUzI1NiJ9.'), fc.string({ maxLength: 60 })).map(([a, b]) => a + b),
  );
}

describe('POST /v1/token on random input', () => {
  let broker: TestBroker;
  let upstream: ScriptedIssuer;
  let handler: Handler;

  beforeAll(async () => {
    broker = await startBroker({ env: { FEDBROKER_LOCAL: 'true' } });
    upstream = await startScriptedIssuer();
    await tenantAdmin(broker.tableName).tenant('acme', [ciRelationship(upstream.issuer, { session_tags: { repo: { claim: 'repository', transitive: false } } })]);
    ({ handler } = await broker.load<{ handler: Handler }>('functions/token.ts'));
    const post = async (body: string) => fromHandler(await handler(httpEvent('POST', '/v1/token', { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body }), lambdaContext()));
    // Control: the handler, tenant and upstream are wired up and do grant a proper token.
    const ok = await post(new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token: await upstream.token({ sub: 'repo:acme/app', repository: 'acme/app' }), subject_token_type: TOKEN_TYPE.idToken, tenant: 'acme' }).toString());
    expect(ok.status, ok.text).toBe(200);
  });
  afterAll(async () => {
    await upstream.close();
    await broker.close();
  });

  async function post(body: string) {
    const res = fromHandler(await handler(httpEvent('POST', '/v1/token', { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body }), lambdaContext()));
    expect(res.status, res.text).toBeGreaterThanOrEqual(400);
    expect(res.status, res.text).toBeLessThan(500);
    expect(res.body.access_token).toBeUndefined();
    expect(res.text).not.toMatch(/eyJ/);
    expect(res.body.error).toMatch(/^(invalid_request|invalid_scope|invalid_target|unsupported_grant_type)$/);
  }

  it('never answers 5xx or a token for random subject tokens and parameters', async () => {
    const params = fc.record(
      {
        grant_type: fc.oneof(fc.constant('urn:ietf:params:oauth:grant-type:token-exchange'), fc.string({ maxLength: 20 })),
        subject_token: tokens(upstream.issuer, upstream.kid),
        subject_token_type: fc.oneof(fc.constantFrom(...Object.values(TOKEN_TYPE)), fc.string({ maxLength: 20 })),
        tenant: fc.oneof(fc.constant('acme'), fc.string({ maxLength: 20 })),
        requested_token_type: fc.constantFrom(...Object.values(TOKEN_TYPE)),
        audience: fc.oneof(fc.constant('sts.amazonaws.com'), fc.string({ maxLength: 20 })),
        scope: fc.oneof(fc.constant('id-token:issue'), fc.string({ maxLength: 20 })),
        duration_seconds: fc.oneof(fc.integer().map(String), fc.string({ maxLength: 8 })),
      },
      { requiredKeys: ['grant_type', 'subject_token', 'subject_token_type'] },
    );
    await fc.assert(
      fc.asyncProperty(params, async (p) => post(new URLSearchParams(p as Record<string, string>).toString())),
      { numRuns: NUM_RUNS },
    );
  });

  it('never answers 5xx or a token for random three-part base64url tokens from the trusted issuer', async () => {
    const segment = fc.uint8Array({ minLength: 1, maxLength: 300 }).map((b) => Buffer.from(b).toString('base64url'));
    const token = fc.tuple(segment, segment, segment).map((p) => p.join('.'));
    await fc.assert(
      fc.asyncProperty(token, async (t) => post(new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token: t, subject_token_type: TOKEN_TYPE.idToken, tenant: 'acme' }).toString())),
      { numRuns: NUM_RUNS },
    );
  });

  it('never answers 5xx or a token for random form bodies', async () => {
    const body = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc.array(fc.tuple(fc.constantFrom('grant_type', 'subject_token', 'subject_token_type', 'tenant', 'x', ''), fc.string({ maxLength: 30 })), { maxLength: 8 }).map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join('&')),
    );
    await fc.assert(fc.asyncProperty(body, post), { numRuns: NUM_RUNS });
  });
});

describe('verifyExternalToken on random input', () => {
  const ISSUER = 'https://idp.example.com';
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwks = {
    keys: [
      { ...rsa.publicKey.export({ format: 'jwk' }), kid: 'r1', alg: 'RS256', use: 'sig' },
      { ...ec.publicKey.export({ format: 'jwk' }), kid: 'e1', alg: 'ES256', use: 'sig' },
      { ...rsa.publicKey.export({ format: 'jwk' }), kid: 'r2' },
    ],
  };
  const fetch: Fetch = async (url) => {
    const body = url.endsWith('/.well-known/openid-configuration') ? { issuer: ISSUER, jwks_uri: `${ISSUER}/jwks` } : url.endsWith('/jwks') ? jwks : undefined;
    return new Response(JSON.stringify(body ?? {}), { status: body ? 200 : 404, headers: { 'content-type': 'application/json' } });
  };
  const clock = { now: () => Date.now() };

  beforeAll(() => {
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
  });
  afterAll(() => vi.restoreAllMocks());

  async function settles(keys: UpstreamKeys, token: unknown) {
    try {
      await verifyExternalToken(token as string, { keys, clock, issuer: ISSUER, audiences: ['fedbroker'], maxAgeSeconds: 3600 });
    } catch (e) {
      if (!(e instanceof SubjectTokenInvalid) && !(e instanceof ServiceUnavailable)) throw e;
    }
  }

  it('rejects random strings, random tokens and non-strings only with SubjectTokenInvalid or ServiceUnavailable', async () => {
    const keys = new UpstreamKeys({ fetch, clock });
    const input = fc.oneof(tokens(ISSUER, 'r1'), fc.anything());
    await fc.assert(fc.asyncProperty(input, (t) => settles(keys, t)), { numRuns: NUM_RUNS });
  });

  it('rejects random headers and claims genuinely signed by the issuer only with its documented errors', async () => {
    const keys = new UpstreamKeys({ fetch, clock });
    const header = fc.record(
      {
        alg: fc.constantFrom('RS256', 'RS384', 'PS256', 'ES256', 'ES384'),
        kid: fc.constantFrom('r1', 'e1', 'r2', 'nope'),
        typ: fc.constantFrom('JWT', 'at+jwt'),
        crit: fc.constant(['b64']),
      },
      { requiredKeys: ['alg'] },
    );
    const time = fc.oneof(fc.integer({ min: nowS() - 7200, max: nowS() + 7200 }), fc.double(), fc.string({ maxLength: 8 }), fc.constant(null), fc.constant(1e308));
    const claims = fc.record(
      {
        iss: fc.constant(ISSUER),
        aud: fc.oneof(fc.constant('fedbroker'), fc.array(fc.oneof(fc.constant('fedbroker'), fc.integer(), fc.jsonValue({ maxDepth: 1 })), { maxLength: 3 }), fc.jsonValue({ maxDepth: 2 })),
        sub: fc.oneof(fc.string({ maxLength: 20 }), fc.jsonValue({ maxDepth: 2 })),
        exp: time,
        iat: time,
        nbf: time,
        extra: fc.jsonValue({ maxDepth: 3 }),
      },
      { requiredKeys: ['iss'] },
    );
    const signed = fc.tuple(header, claims).map(([h, c]) => {
      const key = h.alg.startsWith('ES') ? ec.privateKey : rsa.privateKey;
      return signSegments(h.alg === 'ES384' ? 'ES256' : h.alg, key, b64url(h), b64url(c));
    });
    await fc.assert(fc.asyncProperty(signed, (t) => settles(keys, t)), { numRuns: NUM_RUNS });
  });
});

// Property tests: whatever an attacker posts, the token endpoint answers a 4xx without a token,
// and the upstream token verifier never yields claims for unsigned or garbled input, admits a
// genuinely signed token only when every claim check holds, and otherwise refuses with its own error.
import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SubjectTokenInvalid } from '../../lib/errors.ts';
import type { Fetch } from '../../lib/net/fetch.ts';
import { UpstreamKeys } from '../../lib/upstream/key-cache.ts';
import { UPSTREAM_ALGORITHMS, verifyExternalToken } from '../../lib/upstream/verify.ts';
import { startBroker, type TestBroker } from '../support/broker.ts';
import { httpEvent, lambdaContext } from '../support/events.ts';
import { b64url, signSegments } from '../support/jws.ts';
import { fromHandler } from '../support/refusal.ts';
import { startScriptedIssuer, type ScriptedIssuer } from '../support/scripted-issuer.ts';
import { ciRelationship, TOKEN_TYPE } from '../support/security-env.ts';
import { tenantAdmin } from '../support/tenants.ts';

type Handler = (
  e: ReturnType<typeof httpEvent>,
  c: ReturnType<typeof lambdaContext>,
) => Promise<{ statusCode?: number; headers?: Record<string, unknown>; body?: string }>;

const NUM_RUNS = 200;
const nowS = () => Math.floor(Date.now() / 1000);

/** Random compact tokens: free text, random segments, and structured JWS/JWE-looking tokens. */
function tokens(issuer: string, kid: string): fc.Arbitrary<string> {
  const segment = fc.uint8Array({ maxLength: 96 }).map((b) => Buffer.from(b).toString('base64url'));
  const header = fc.record(
    {
      alg: fc.oneof(
        fc.constantFrom(...UPSTREAM_ALGORITHMS, 'none', 'None', 'HS256', 'EdDSA', 'dir', 'PBES2-HS512+A256KW'),
        fc.string({ maxLength: 12 }),
      ),
      kid: fc.oneof(fc.constant(kid), fc.string({ maxLength: 40 }), fc.integer()),
      typ: fc.constantFrom('JWT', 'at+jwt', 'JOSE'),
      crit: fc.array(fc.string({ maxLength: 8 }), { maxLength: 2 }),
      jku: fc.webUrl(),
      enc: fc.constantFrom('A256GCM'),
      p2c: fc.integer({ min: 0, max: 2 ** 31 }),
    },
    { requiredKeys: [] },
  );
  const time = fc.oneof(
    fc.integer({ min: nowS() - 7200, max: nowS() + 7200 }),
    fc.integer(),
    fc.double(),
    fc.string({ maxLength: 12 }),
    fc.constant(null),
  );
  const payload = fc.record(
    {
      iss: fc.oneof(
        fc.constant(issuer),
        fc.constant(`${issuer}/`),
        fc.webUrl(),
        fc.string({ maxLength: 20 }),
        fc.array(fc.constant(issuer), { maxLength: 2 }),
      ),
      aud: fc.oneof(
        fc.constant('fedbroker'),
        fc.string({ maxLength: 12 }),
        fc.array(fc.oneof(fc.constant('fedbroker'), fc.string({ maxLength: 8 }), fc.integer()), { maxLength: 3 }),
      ),
      sub: fc.oneof(
        fc.constant('repo:acme/app'),
        fc.string({ maxLength: 40 }),
        fc.string({ unit: 'binary', maxLength: 20 }),
        fc.jsonValue({ maxDepth: 2 }),
      ),
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
    await tenantAdmin(broker.tableName).tenant('acme', [
      ciRelationship(upstream.issuer, { session_tags: { repo: { claim: 'repository', transitive: false } } }),
    ]);
    ({ handler } = await broker.load<{ handler: Handler }>('functions/token.ts'));
    const post = async (body: string) =>
      fromHandler(
        await handler(
          httpEvent('POST', '/v1/token', { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body }),
          lambdaContext(),
        ),
      );
    // Control: the handler, tenant and upstream are wired up and do grant a proper token.
    const ok = await post(
      new URLSearchParams({
        grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
        subject_token: await upstream.token({ sub: 'repo:acme/app', repository: 'acme/app' }),
        subject_token_type: TOKEN_TYPE.idToken,
        tenant: 'acme',
      }).toString(),
    );
    expect(ok.status, ok.text).toBe(200);
  });
  afterAll(async () => {
    await upstream.close();
    await broker.close();
  });

  async function post(body: string) {
    const res = fromHandler(
      await handler(
        httpEvent('POST', '/v1/token', { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body }),
        lambdaContext(),
      ),
    );
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
      fc.asyncProperty(token, async (t) =>
        post(
          new URLSearchParams({
            grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
            subject_token: t,
            subject_token_type: TOKEN_TYPE.idToken,
            tenant: 'acme',
          }).toString(),
        ),
      ),
      { numRuns: NUM_RUNS },
    );
  });

  it('never answers 5xx or a token for random form bodies', async () => {
    const body = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc
        .array(
          fc.tuple(fc.constantFrom('grant_type', 'subject_token', 'subject_token_type', 'tenant', 'x', ''), fc.string({ maxLength: 30 })),
          { maxLength: 8 },
        )
        .map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join('&')),
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
  // Always answers: with keys always reachable, ServiceUnavailable would itself be a bug, so the
  // only acceptable refusal here is SubjectTokenInvalid.
  const fetch: Fetch = async (url) => {
    const body = url.endsWith('/.well-known/openid-configuration')
      ? { issuer: ISSUER, jwks_uri: `${ISSUER}/jwks` }
      : url.endsWith('/jwks')
        ? jwks
        : undefined;
    return new Response(JSON.stringify(body ?? {}), { status: body ? 200 : 404, headers: { 'content-type': 'application/json' } });
  };
  // Frozen, so the time bounds `admissible` checks after a verification are the ones it ran with.
  const frozenMs = Date.now();
  const clock = { now: () => frozenMs };
  const MAX_AGE = 3600;
  const SKEW = 60;
  const MAX_LIFETIME = 86_400;

  beforeAll(() => {
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
  });
  afterAll(() => vi.restoreAllMocks());

  type Outcome = { accepted: Awaited<ReturnType<typeof verifyExternalToken>> } | { error: unknown };
  const verify = (keys: UpstreamKeys, token: unknown): Promise<Outcome> =>
    verifyExternalToken(token as string, { keys, clock, issuer: ISSUER, audiences: ['fedbroker'], maxAgeSeconds: MAX_AGE }).then(
      (accepted) => ({ accepted }),
      (error: unknown) => ({ error }),
    );

  /** Fails the property unless `outcome` is a refusal with the verifier's own error and a reason. */
  function expectRefused(outcome: Outcome): void {
    expect(outcome).not.toHaveProperty('accepted');
    const { error } = outcome as { error: unknown };
    expect(error).toBeInstanceOf(SubjectTokenInvalid);
    expect((error as SubjectTokenInvalid).reason).toMatch(/^[a-z_]+$/);
  }

  /**
   * What every accepted token satisfies (necessary, not sufficient: key selection is not
   * modelled), restating RFC 7519 §4.1.1–4.1.6 as the verifier applies them.
   */
  function admissible(header: Record<string, unknown>, claims: Record<string, unknown>): boolean {
    const now = clock.now() / 1000;
    const numeric = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
    const { iss, aud, sub, exp, iat, nbf } = claims;
    return (
      !('crit' in header) &&
      header.kid !== 'nope' &&
      header.alg !== 'ES384' &&
      iss === ISSUER &&
      (aud === 'fedbroker' || (Array.isArray(aud) && aud.every((a) => typeof a === 'string') && aud.includes('fedbroker'))) &&
      numeric(exp) &&
      now < exp + SKEW &&
      exp - now <= MAX_LIFETIME + SKEW &&
      (iat === undefined || (numeric(iat) && iat <= now + SKEW && now - iat <= MAX_AGE)) &&
      (nbf === undefined || (numeric(nbf) && nbf <= now + SKEW)) &&
      (sub === undefined || typeof sub === 'string')
    );
  }

  /** Claims that pass every check on the frozen clock. */
  const passing = {
    iss: ISSUER,
    aud: 'fedbroker',
    sub: 'repo:acme/app',
    iat: Math.floor(frozenMs / 1000),
    exp: Math.floor(frozenMs / 1000) + 300,
  };
  /** The trusted issuer's genuine token for `alg` (RS256 with r1, ES256 with e1). */
  const genuine = (alg: 'RS256' | 'ES256', claims: Record<string, unknown> = passing) =>
    signSegments(
      alg,
      alg === 'ES256' ? ec.privateKey : rsa.privateKey,
      b64url({ alg, kid: alg === 'ES256' ? 'e1' : 'r1' }),
      b64url(claims),
    );

  /**
   * Tokens a verifier that skipped or botched the signature check would accept: header and claims
   * pass every other check, only the signature is not the issuer's over these bytes. Random input
   * alone almost never gets that far, so without these the property could not see such a bug.
   */
  function forgeries(): fc.Arbitrary<string> {
    const attacker = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const alg = fc.constantFrom('RS256' as const, 'ES256' as const);
    return fc.oneof(
      // One bit of the genuine signature flipped.
      fc.tuple(alg, fc.nat()).map(([a, n]) => {
        const [h, p, sig] = genuine(a).split('.') as [string, string, string];
        const bytes = Buffer.from(sig, 'base64url');
        bytes[n % bytes.length]! ^= 1 << (n % 8);
        return `${h}.${p}.${bytes.toString('base64url')}`;
      }),
      // Random bytes, or none at all, as the signature.
      fc
        .tuple(alg, fc.uint8Array({ maxLength: 300 }))
        .map(([a, bytes]) => `${genuine(a).split('.').slice(0, 2).join('.')}.${Buffer.from(bytes).toString('base64url')}`),
      // Signed by another key under the issuer's kid.
      fc.constant(null).map(() => signSegments('RS256', attacker.privateKey, b64url({ alg: 'RS256', kid: 'r1' }), b64url(passing))),
      // The issuer's signature over other claims, spliced onto these.
      fc.string({ maxLength: 20 }).map((sub) => {
        const [h, , sig] = genuine('RS256', { ...passing, sub: `other:${sub}` }).split('.');
        return `${h}.${b64url(passing)}.${sig}`;
      }),
    );
  }

  it('refuses random strings, random and forged tokens and non-strings, never yielding claims, only with SubjectTokenInvalid', async () => {
    const keys = new UpstreamKeys({ fetch, clock });
    const input = fc.oneof(tokens(ISSUER, 'r1'), forgeries(), fc.anything());
    await fc.assert(
      fc.asyncProperty(input, async (t) => expectRefused(await verify(keys, t))),
      { numRuns: NUM_RUNS },
    );
  });

  it('admits proper tokens signed by the issuer (control for both properties)', async () => {
    const keys = new UpstreamKeys({ fetch, clock });
    const now = Math.floor(frozenMs / 1000);
    const header = { alg: 'RS256', kid: 'r1', typ: 'JWT' };
    const claims = { iss: ISSUER, aud: 'fedbroker', sub: 'repo:acme/app', iat: now, exp: now + 300 };
    const outcome = await verify(keys, signSegments('RS256', rsa.privateKey, b64url(header), b64url(claims)));
    expect(outcome).toEqual({ accepted: { header, claims } });
    expect(admissible(header, claims)).toBe(true);
    // The tokens the forgeries are made from are admitted: those are refused for their signature alone.
    for (const alg of ['RS256', 'ES256'] as const) expect(await verify(keys, genuine(alg))).toHaveProperty('accepted.claims', passing);
  });

  it('admits random and one-defect headers and claims genuinely signed by the issuer only when every check holds', async () => {
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
    const time = fc.oneof(
      fc.integer({ min: nowS() - 7200, max: nowS() + 7200 }),
      fc.double(),
      fc.string({ maxLength: 8 }),
      fc.constant(null),
      fc.constant(1e308),
    );
    const aud = fc.oneof(
      fc.constant('fedbroker'),
      fc.array(fc.oneof(fc.constant('fedbroker'), fc.integer(), fc.jsonValue({ maxDepth: 1 })), { maxLength: 3 }),
      fc.jsonValue({ maxDepth: 2 }),
    );
    const sub = fc.oneof(fc.string({ maxLength: 20 }), fc.jsonValue({ maxDepth: 2 }));
    const claims = fc.record(
      {
        iss: fc.constant(ISSUER),
        aud,
        sub,
        exp: time,
        iat: time,
        nbf: time,
        extra: fc.jsonValue({ maxDepth: 3 }),
      },
      { requiredKeys: ['iss'] },
    );
    // Fully random tokens almost never pass every check, which would leave the acceptance side of
    // the property unexercised. So half are a passing token with one member replaced (or, as
    // undefined, removed): each check in turn is all that stands between it and acceptance.
    const oneDefect = fc
      .tuple(
        fc.constantFrom('RS256' as const, 'ES256' as const),
        fc.oneof(
          fc.record({ iss: fc.oneof(fc.constant(`${ISSUER}/`), fc.string({ maxLength: 20 })) }).map((c) => ({ c })),
          fc.record({ aud }).map((c) => ({ c })),
          fc.record({ sub }).map((c) => ({ c })),
          fc.record({ exp: time }).map((c) => ({ c })),
          fc.record({ iat: time }).map((c) => ({ c })),
          fc.record({ nbf: time }).map((c) => ({ c })),
          fc.constantFrom({ exp: undefined }, { aud: undefined }, { iat: undefined }).map((c) => ({ c })),
          fc.constantFrom({ kid: 'nope' }, { crit: ['b64'] }, { kid: undefined }).map((h) => ({ h })),
        ),
      )
      .map(([alg, defect]): [Record<string, unknown> & { alg: string }, Record<string, unknown>] => [
        { alg, kid: alg === 'ES256' ? 'e1' : 'r1', ...('h' in defect ? defect.h : {}) },
        { ...passing, ...('c' in defect ? defect.c : {}) },
      ]);
    const signed = fc.oneof(fc.tuple(header, claims), oneDefect).map(([h, c]) => {
      const key = h.alg.startsWith('ES') ? ec.privateKey : rsa.privateKey;
      // Header and claims as signed (JSON drops undefined, turns NaN and ±Infinity into null): what a verifier sees.
      const [hdr, payload] = [h, c].map((v) => JSON.parse(JSON.stringify(v)) as Record<string, unknown>) as [
        Record<string, unknown>,
        Record<string, unknown>,
      ];
      return { header: hdr, payload, token: signSegments(h.alg === 'ES384' ? 'ES256' : h.alg, key, b64url(h), b64url(c)) };
    });
    await fc.assert(
      fc.asyncProperty(signed, async ({ header: h, payload, token }) => {
        const outcome = await verify(keys, token);
        if ('error' in outcome) return expectRefused(outcome);
        expect(admissible(h, payload), JSON.stringify({ header: h, payload })).toBe(true);
        expect(outcome.accepted.claims).toEqual(payload);
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

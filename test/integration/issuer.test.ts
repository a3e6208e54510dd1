import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signJwt } from '../../lib/jwt/sign.ts';
import type { Runtime } from '../../lib/handlers/runtime.ts';
import { startBroker, type TestBroker } from '../support/broker.ts';
import { httpEvent, lambdaContext } from '../support/events.ts';
import { startGateway } from '../support/gateway.ts';
import { verifyWithPyJwt } from '../support/python-verify.ts';

type Handler = (
  e: ReturnType<typeof httpEvent>,
  c: ReturnType<typeof lambdaContext>,
) => Promise<{ statusCode?: number; headers?: Record<string, string>; body?: string }>;

describe.each([
  { signer: 'kms' as const, alg: 'RS256' as const },
  { signer: 'kms' as const, alg: 'ES256' as const },
  { signer: 'local' as const, alg: 'RS256' as const },
  { signer: 'local' as const, alg: 'ES256' as const },
])('issuer with the $signer signer and $alg', ({ signer, alg }) => {
  let broker: TestBroker;
  let gateway: Awaited<ReturnType<typeof startGateway>>;

  beforeAll(async () => {
    broker = await startBroker({ signer, alg });
    gateway = await startGateway((m) => broker.load(m));
  });
  afterAll(async () => {
    await gateway.close();
    await broker.close();
  });

  async function signTestToken(): Promise<string> {
    const { runtime } = await broker.load<{ runtime: () => Runtime }>('lib/handlers/runtime.ts');
    const rt = runtime();
    const key = await rt.keyRing.activeKey();
    const now = Math.floor(Date.now() / 1000);
    return signJwt(rt.signer, key, 'JWT', { iss: rt.config.issuer, sub: 'dev/test', aud: 'sts.amazonaws.com', iat: now, exp: now + 300 });
  }

  it('publishes the signing key in the JWKS with a thumbprint kid, alg and use', async () => {
    const res = await fetch(`${gateway.url}/.well-known/jwks.json`);
    expect(res.status).toBe(200);
    const jwks = (await res.json()) as { keys: Record<string, string>[] };
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ alg, use: 'sig', kty: alg === 'RS256' ? 'RSA' : 'EC' });
    expect(jwks.keys[0]).not.toHaveProperty('d');
  });

  it('signs a token that jose verifies against the running JWKS route', async () => {
    const token = await signTestToken();
    const jwks = createRemoteJWKSet(new URL(`${gateway.url}/.well-known/jwks.json`));
    const { payload, protectedHeader } = await jwtVerify(token, jwks, {
      issuer: 'https://issuer.fedbroker.test',
      audience: 'sts.amazonaws.com',
      algorithms: [alg],
    });
    expect(protectedHeader.typ).toBe('JWT');
    expect(payload.sub).toBe('dev/test');
  });

  it('signs a token that an independent verifier (PyJWT) accepts', async () => {
    const token = await signTestToken();
    const jwks = await (await fetch(`${gateway.url}/.well-known/jwks.json`)).json();
    const claims = verifyWithPyJwt({ token, jwks, alg, aud: 'sts.amazonaws.com', iss: 'https://issuer.fedbroker.test' });
    expect(claims.sub).toBe('dev/test');
    expect(decodeProtectedHeader(token).alg).toBe(alg);
  });
});

describe('JWKS route', () => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await startBroker();
  });
  afterAll(async () => broker.close());

  const jwks = async () => (await broker.load<{ handler: Handler }>('functions/jwks.ts')).handler;

  it('answers a conditional GET with a matching ETag with 304 and no body', async () => {
    const handler = await jwks();
    const first = await handler(httpEvent('GET', '/.well-known/jwks.json'), lambdaContext());
    const etag = first.headers?.ETag ?? '';
    expect(etag).toMatch(/^"[\w-]+"$/);
    expect(first.headers?.['Cache-Control']).toMatch(/^public, max-age=\d+$/);
    const second = await handler(httpEvent('GET', '/.well-known/jwks.json', { headers: { 'if-none-match': etag } }), lambdaContext());
    expect(second.statusCode).toBe(304);
    expect(second.body).toBe('');
    expect(second.headers?.ETag).toBe(etag);
  });

  it('serves the full body when If-None-Match names another version', async () => {
    const handler = await jwks();
    const res = await handler(httpEvent('GET', '/.well-known/jwks.json', { headers: { 'if-none-match': '"stale"' } }), lambdaContext());
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body ?? '').keys).toHaveLength(1);
  });

  it('answers HEAD with headers and no body', async () => {
    const handler = await jwks();
    const res = await handler(httpEvent('HEAD', '/.well-known/jwks.json'), lambdaContext());
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('');
    expect(res.headers?.ETag).toBeTruthy();
  });

  it('refuses POST with 405 and an Allow header', async () => {
    const handler = await jwks();
    const res = await handler(httpEvent('POST', '/.well-known/jwks.json'), lambdaContext());
    expect(res.statusCode).toBe(405);
    expect(res.headers?.Allow).toBe('GET, HEAD');
    expect(JSON.parse(res.body ?? '')).toMatchObject({ error: 'method_not_allowed' });
  });

  it('costs no store read and no KMS call on a warm container', async () => {
    const handler = await jwks();
    await handler(httpEvent('GET', '/.well-known/jwks.json'), lambdaContext());
    const before = { ...broker.kms.calls };
    await handler(httpEvent('GET', '/.well-known/jwks.json'), lambdaContext());
    expect(broker.kms.calls).toEqual(before);
  });
});

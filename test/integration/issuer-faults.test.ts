import { calculateJwkThumbprint } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DynamoKeyStore } from '../../lib/aws/dynamo-key-store.ts';
import { Table } from '../../lib/aws/dynamo-table.ts';
import { KmsSigner } from '../../lib/aws/kms-signer.ts';
import type { Runtime } from '../../lib/handlers/runtime.ts';
import { startBroker, type TestBroker } from '../support/broker.ts';
import { httpEvent, lambdaContext } from '../support/events.ts';
import { STAND_IN_ACCOUNT } from '../support/kms-stand-in.ts';

type Result = { statusCode?: number; headers?: Record<string, string>; body?: string };
type Handler = (e: ReturnType<typeof httpEvent>, c: ReturnType<typeof lambdaContext>) => Promise<Result>;

let broker: TestBroker;
beforeEach(async () => {
  broker = await startBroker();
});
afterEach(async () => broker.close());

const call = async (module: string, method: string, path: string, headers: Record<string, string> = {}) =>
  (await broker.load<{ handler: Handler }>(module)).handler(httpEvent(method, path, { headers }), lambdaContext());

function expectNoLeak(res: Result) {
  expect(res.body ?? '').not.toMatch(new RegExp(`${STAND_IN_ACCOUNT}|arn:aws|stack|at \\w+ \\(|eyJ`));
}

describe('issuer under faults', () => {
  it('answers 503 with Retry-After when KMS throttles on a cold start', async () => {
    broker.kms.failNext('GetPublicKey', 'ThrottlingException', 5);
    const res = await call('functions/jwks.ts', 'GET', '/.well-known/jwks.json');
    expect(res.statusCode).toBe(503);
    expect(res.headers?.['Retry-After']).toMatch(/^\d+$/);
    expect(JSON.parse(res.body ?? '')).toMatchObject({ error: 'temporarily_unavailable' });
    expectNoLeak(res);
  });

  it('answers 503 when KMS fails with an internal error', async () => {
    broker.kms.failNext('GetPublicKey', 'KMSInternalException', 5, 500);
    const res = await call('functions/jwks.ts', 'GET', '/.well-known/jwks.json');
    expect(res.statusCode).toBe(503);
    expectNoLeak(res);
  });

  it('answers 503 when KMS cannot be reached at all', async () => {
    broker.coldStart({ AWS_ENDPOINT_URL_KMS: 'http://127.0.0.1:9' });
    const res = await call('functions/jwks.ts', 'GET', '/.well-known/jwks.json');
    expect(res.statusCode).toBe(503);
    expect(res.headers?.['Retry-After']).toBeTruthy();
    expectNoLeak(res);
  });

  it('recovers by itself once KMS answers again', async () => {
    // The SDK makes two attempts per request: fail exactly one request's worth.
    broker.kms.failNext('GetPublicKey', 'ThrottlingException', 2);
    expect((await call('functions/jwks.ts', 'GET', '/.well-known/jwks.json')).statusCode).toBe(503);
    expect((await call('functions/jwks.ts', 'GET', '/.well-known/jwks.json')).statusCode).toBe(200);
  });

  it('never returns a token when KMS throttles Sign', async () => {
    const { runtime } = await broker.load<{ runtime: () => Runtime }>('lib/handlers/runtime.ts');
    const { signJwt } = await broker.load<typeof import('../../lib/jwt/sign.ts')>('lib/jwt/sign.ts');
    const rt = runtime();
    const key = await rt.keyRing.activeKey();
    broker.kms.failNext('Sign', 'ThrottlingException', 5);
    await expect(signJwt(rt.signer, key, 'JWT', { sub: 'x' })).rejects.toMatchObject({ code: 'ERR_SERVICE_UNAVAILABLE', status: 503 });
  });

  it('answers 503 when DynamoDB is down, without leaking details', async () => {
    broker.coldStart({ AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:9' });
    const res = await call('functions/jwks.ts', 'GET', '/.well-known/jwks.json');
    expect(res.statusCode).toBe(503);
    expectNoLeak(res);
  });

  it('answers a generic 500 with a request id when the deployment is misconfigured', async () => {
    broker.coldStart({ FEDBROKER_ISSUER: 'http://public.example.com' });
    const res = await call('functions/discovery.ts', 'GET', '/.well-known/openid-configuration');
    expect(res.statusCode).toBe(500);
    const body = JSON.parse(res.body ?? '');
    expect(body).toMatchObject({ error: 'server_error', error_description: 'internal error' });
    expect(body.request_id).toBeTruthy();
    expect(res.body).not.toMatch(/FEDBROKER_ISSUER/);
  });

  it('leaves out a registered key that KMS no longer has and serves the rest', async () => {
    await call('functions/jwks.ts', 'GET', '/.well-known/jwks.json');
    const extra = await broker.kms.createKey('RSA_2048');
    const signer = new KmsSigner(new (await import('@aws-sdk/client-kms')).KMSClient({}), {
      keyId: extra.Arn,
      alg: 'RS256',
      deletionWindowDays: 30,
      managedTag: 'fedbroker-test',
    });
    const info = await signer.bootstrapKey();
    const kid = await calculateJwkThumbprint(info.jwk, 'sha256');
    const store = new DynamoKeyStore(new Table(broker.tableName));
    await store.createKey({
      kid,
      alg: 'RS256',
      signer: 'kms',
      keyRef: extra.Arn,
      status: 'next',
      origin: 'rotation',
      createdAt: 1,
      version: 1,
    });
    broker.kms.forget(extra.KeyId);
    broker.coldStart();
    const res = await call('functions/jwks.ts', 'GET', '/.well-known/jwks.json');
    expect(res.statusCode).toBe(200);
    const kids = (JSON.parse(res.body ?? '') as { keys: { kid: string }[] }).keys.map((k) => k.kid);
    expect(kids).toHaveLength(1);
    expect(kids).not.toContain(kid);
  });

  it('publishes a key whose kid is its RFC 7638 thumbprint', async () => {
    const res = await call('functions/jwks.ts', 'GET', '/.well-known/jwks.json');
    const [key] = (JSON.parse(res.body ?? '') as { keys: Record<string, string>[] }).keys;
    expect(key?.kid).toBe(await calculateJwkThumbprint(key as never, 'sha256'));
  });
});

describe('routes', () => {
  it('serves discovery with the configured issuer and a cache header', async () => {
    const res = await call('functions/discovery.ts', 'GET', '/.well-known/openid-configuration');
    expect(res.statusCode).toBe(200);
    expect(res.headers?.['Cache-Control']).toMatch(/^public, max-age=\d+$/);
    expect(JSON.parse(res.body ?? '').issuer).toBe('https://issuer.fedbroker.test');
  });

  it.each(['POST', 'PUT', 'DELETE', 'PATCH'])('refuses %s on discovery with 405', async (method) => {
    const res = await call('functions/discovery.ts', method, '/.well-known/openid-configuration');
    expect(res.statusCode).toBe(405);
    expect(res.headers?.Allow).toBe('GET, HEAD');
  });

  it.each(['GET', 'POST'])('answers an unknown route (%s) with a JSON 404', async (method) => {
    const res = await call('functions/fallback.ts', method, '/nope');
    expect(res.statusCode).toBe(404);
    expect(res.headers?.['Content-Type']).toBe('application/json');
    expect(JSON.parse(res.body ?? '')).toEqual({ error: 'not_found', error_description: 'no such route' });
  });
});

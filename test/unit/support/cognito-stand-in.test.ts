// The Cognito Identity stand-in, as the real @aws-sdk/client-cognito-identity sees it: success
// shapes, typed errors and the OpenID issuer endpoints the tokens are verified against.
import {
  CognitoIdentityClient,
  GetCredentialsForIdentityCommand,
  GetOpenIdTokenForDeveloperIdentityCommand,
  InternalErrorException,
  InvalidParameterException,
  NotAuthorizedException,
  ResourceConflictException,
  ResourceNotFoundException,
  TooManyRequestsException,
  type GetOpenIdTokenForDeveloperIdentityCommandInput,
} from '@aws-sdk/client-cognito-identity';
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, generateKeyPair, jwtVerify, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCognitoStandIn, type CognitoStandIn } from '../../support/cognito-stand-in.ts';
import { rejection } from '../../support/rejection.ts';

const ID = /^us-east-1:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let cognito: CognitoStandIn;
let client: CognitoIdentityClient;
let poolId: string;

beforeAll(async () => {
  cognito = await startCognitoStandIn();
  client = clientFor();
  poolId = cognito.createPool({ developerProvider: 'fedbroker' });
});
afterAll(async () => {
  client.destroy();
  await cognito.close();
});

function clientFor(options: { maxAttempts?: number } = {}): CognitoIdentityClient {
  return new CognitoIdentityClient({
    region: 'us-east-1',
    endpoint: cognito.url,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    ...options,
  });
}

async function failure(p: Promise<unknown>): Promise<Error & { $metadata: { httpStatusCode?: number }; $fault: string }> {
  const e = await rejection(p, Error);
  return e as Error & { $metadata: { httpStatusCode?: number }; $fault: string };
}

const developerToken = (input: Partial<GetOpenIdTokenForDeveloperIdentityCommandInput> = {}) =>
  client.send(
    new GetOpenIdTokenForDeveloperIdentityCommand({ IdentityPoolId: poolId, Logins: { fedbroker: 'tenant-a/workload-1' }, ...input }),
  );

describe('GetOpenIdTokenForDeveloperIdentity', () => {
  it('returns an identity id and an RS512 token shaped like Cognito’s', async () => {
    const before = Math.floor(Date.now() / 1000);
    const out = await developerToken();
    expect(out.IdentityId).toMatch(ID);
    expect(decodeProtectedHeader(out.Token!)).toEqual({ kid: 'us-east-11', typ: 'JWS', alg: 'RS512' });
    const claims = decodeJwt(out.Token!);
    expect(claims).toEqual({
      iss: cognito.url,
      aud: poolId,
      sub: out.IdentityId,
      amr: ['authenticated', 'fedbroker', `fedbroker:us-east-1:${poolId.split(':')[1]}:tenant-a/workload-1`],
      'https://cognito-identity.amazonaws.com/identity-pool-arn': `arn:aws:cognito-identity:us-east-1:111122223333:identitypool/${poolId}`,
      iat: expect.any(Number),
      exp: claims.iat! + 900,
    });
    expect(claims.iat).toBeGreaterThanOrEqual(before);
    expect(cognito.lastRequest).toEqual({ IdentityPoolId: poolId, Logins: { fedbroker: 'tenant-a/workload-1' } });
    expect(cognito.calls.GetOpenIdTokenForDeveloperIdentity).toBeGreaterThan(0);
  });

  it('maps the same login to the same identity, and other logins to other identities', async () => {
    const a = await developerToken({ Logins: { fedbroker: 'same-user' } });
    const b = await developerToken({ Logins: { fedbroker: 'same-user' } });
    const c = await developerToken({ Logins: { fedbroker: 'other-user' } });
    expect(b.IdentityId).toBe(a.IdentityId);
    expect(c.IdentityId).not.toBe(a.IdentityId);
    const otherPool = cognito.createPool({ developerProvider: 'fedbroker' });
    const d = await developerToken({ IdentityPoolId: otherPool, Logins: { fedbroker: 'same-user' } });
    expect(d.IdentityId).not.toBe(a.IdentityId);
  });

  it('links a login to an existing identity, and refuses one already linked elsewhere', async () => {
    const a = await developerToken({ Logins: { fedbroker: 'link-a' } });
    const linked = await developerToken({ IdentityId: a.IdentityId, Logins: { fedbroker: 'link-b' } });
    expect(linked.IdentityId).toBe(a.IdentityId);
    const c = await developerToken({ Logins: { fedbroker: 'link-c' } });
    expect(await failure(developerToken({ IdentityId: c.IdentityId, Logins: { fedbroker: 'link-a' } }))).toBeInstanceOf(
      ResourceConflictException,
    );
    expect(await failure(developerToken({ IdentityId: 'us-east-1:00000000-0000-0000-0000-000000000000' }))).toBeInstanceOf(
      ResourceNotFoundException,
    );
  });

  it('carries PrincipalTags in the https://aws.amazon.com/tags claim and honours TokenDuration', async () => {
    const out = await developerToken({ PrincipalTags: { tenant: 'tenant-a', env: 'prod' }, TokenDuration: 3600 });
    const claims = decodeJwt(out.Token!);
    expect(claims['https://aws.amazon.com/tags']).toEqual({ principal_tags: { tenant: ['tenant-a'], env: ['prod'] } });
    expect(claims.exp).toBe(claims.iat! + 3600);
    expect(cognito.lastRequest).toMatchObject({ PrincipalTags: { tenant: 'tenant-a', env: 'prod' }, TokenDuration: 3600 });
  });

  it('publishes the issuer’s discovery document and keys at Cognito’s paths', async () => {
    const discovery = (await (await fetch(`${cognito.url}/.well-known/openid-configuration`)).json()) as {
      issuer: string;
      jwks_uri: string;
    };
    expect(discovery.issuer).toBe(cognito.url);
    expect(discovery.jwks_uri).toBe(`${cognito.url}/.well-known/jwks_uri`);
    const { Token } = await developerToken();
    const { payload } = await jwtVerify(Token!, createRemoteJWKSet(new URL(discovery.jwks_uri)), {
      issuer: cognito.url,
      audience: poolId,
      algorithms: ['RS512'],
    });
    expect(payload.sub).toMatch(ID);
  });

  it('refuses an unknown pool with ResourceNotFoundException', async () => {
    const e = await failure(developerToken({ IdentityPoolId: 'us-east-1:11111111-2222-3333-4444-555555555555' }));
    expect(e).toBeInstanceOf(ResourceNotFoundException);
    expect(e.$metadata.httpStatusCode).toBe(400);
  });

  it.each([
    ['another developer provider', { other: 'user' }],
    ['two providers', { fedbroker: 'user', 'graph.facebook.com': 'token' }],
  ])('refuses %s with NotAuthorizedException', async (_name, Logins) => {
    const e = await failure(developerToken({ Logins }));
    expect(e).toBeInstanceOf(NotAuthorizedException);
    expect(e.$fault).toBe('client');
  });

  it.each([
    ['TokenDuration 0', { TokenDuration: 0 }],
    ['TokenDuration above 24 h', { TokenDuration: 86401 }],
    ['more than 50 PrincipalTags', { PrincipalTags: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v'])) }],
    ['a PrincipalTags value over 256 characters', { PrincipalTags: { k: 'v'.repeat(257) } }],
    ['a malformed pool id', { IdentityPoolId: 'not a pool' }],
  ])('refuses %s with InvalidParameterException', async (_name, input) => {
    expect(await failure(developerToken(input))).toBeInstanceOf(InvalidParameterException);
  });

  it('requires a SigV4-signed request (developer credentials)', async () => {
    const res = await fetch(cognito.url, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-amz-json-1.1',
        'X-Amz-Target': 'AWSCognitoIdentityService.GetOpenIdTokenForDeveloperIdentity',
      },
      body: JSON.stringify({ IdentityPoolId: poolId, Logins: { fedbroker: 'u' } }),
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException');
    expect(await res.json()).toEqual({ __type: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' });
  });
});

describe('GetCredentialsForIdentity', () => {
  const credentials = (IdentityId: string | undefined, token?: string) =>
    client.send(
      new GetCredentialsForIdentityCommand({ IdentityId, ...(token ? { Logins: { 'cognito-identity.amazonaws.com': token } } : {}) }),
    );

  it('exchanges a Cognito token for temporary credentials', async () => {
    const { IdentityId, Token } = await developerToken();
    const out = await credentials(IdentityId, Token);
    expect(out.IdentityId).toBe(IdentityId);
    expect(out.Credentials?.AccessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/);
    expect(out.Credentials?.SecretKey).toBeTruthy();
    expect(out.Credentials?.SessionToken).toBeTruthy();
    expect(out.Credentials?.Expiration).toBeInstanceOf(Date);
    expect(Math.abs(out.Credentials!.Expiration!.getTime() - (Date.now() + 3_600_000))).toBeLessThan(5000);
    expect(cognito.lastRequest).toEqual({ IdentityId, Logins: { 'cognito-identity.amazonaws.com': Token } });
  });

  it('refuses an expired token', async () => {
    const identityId = (await developerToken()).IdentityId!;
    const now = Math.floor(Date.now() / 1000);
    const token = await cognito.issueToken({ poolId, identityId, amr: ['authenticated'], iat: now - 1000, exp: now - 100 });
    const e = await failure(credentials(identityId, token));
    expect(e).toBeInstanceOf(NotAuthorizedException);
    expect(e.message).toMatch(/^Invalid login token\. Token expired: \d+ >= \d+$/);
  });

  it('refuses a token not signed by the stand-in', async () => {
    const identityId = (await developerToken()).IdentityId!;
    const { privateKey } = await generateKeyPair('RS512');
    const forged = await new SignJWT({ iss: cognito.url, aud: poolId, sub: identityId, amr: ['authenticated'] })
      .setProtectedHeader({ kid: 'us-east-11', typ: 'JWS', alg: 'RS512' })
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);
    expect(await failure(credentials(identityId, forged))).toBeInstanceOf(NotAuthorizedException);
  });

  it('refuses a token for another identity, and a request without the token', async () => {
    const a = await developerToken({ Logins: { fedbroker: 'creds-a' } });
    const b = await developerToken({ Logins: { fedbroker: 'creds-b' } });
    expect(await failure(credentials(b.IdentityId, a.Token))).toBeInstanceOf(NotAuthorizedException);
    expect(await failure(credentials(b.IdentityId))).toBeInstanceOf(NotAuthorizedException);
  });

  it('refuses an unknown identity with ResourceNotFoundException', async () => {
    const { Token } = await developerToken();
    expect(await failure(credentials('us-east-1:99999999-9999-9999-9999-999999999999', Token))).toBeInstanceOf(ResourceNotFoundException);
  });

  it('allows unauthenticated identities only where the pool does', async () => {
    const closed = await cognito.issueToken({ poolId, amr: ['unauthenticated'] });
    const e = await failure(credentials(decodeJwt(closed).sub, closed));
    expect(e).toBeInstanceOf(NotAuthorizedException);
    expect(e.message).toBe('Unauthenticated access is not supported for this identity pool.');
    const openPool = cognito.createPool({ developerProvider: 'fedbroker', allowUnauthenticated: true });
    const open = await cognito.issueToken({ poolId: openPool, amr: ['unauthenticated'] });
    await expect(credentials(decodeJwt(open).sub, open)).resolves.toMatchObject({
      Credentials: { AccessKeyId: expect.stringMatching(/^ASIA/) },
    });
  });
});

describe('fault injection and endpoints', () => {
  it('fails the next calls with typed, throttling and internal errors', async () => {
    const once = clientFor({ maxAttempts: 1 });
    try {
      cognito.failNext('GetOpenIdTokenForDeveloperIdentity', 'TooManyRequestsException');
      const throttled = await failure(
        once.send(new GetOpenIdTokenForDeveloperIdentityCommand({ IdentityPoolId: poolId, Logins: { fedbroker: 'u' } })),
      );
      expect(throttled).toBeInstanceOf(TooManyRequestsException);
      expect(throttled.$metadata.httpStatusCode).toBe(400);
      cognito.failNext('*', 'InternalErrorException');
      const internal = await failure(
        once.send(new GetCredentialsForIdentityCommand({ IdentityId: 'us-east-1:00000000-0000-0000-0000-000000000000' })),
      );
      expect(internal).toBeInstanceOf(InternalErrorException);
      expect(internal.$metadata.httpStatusCode).toBe(500);
      expect(internal.$fault).toBe('server');
    } finally {
      once.destroy();
    }
  });

  it('lets the SDK’s own retries recover from one throttled call', async () => {
    const before = cognito.calls.GetOpenIdTokenForDeveloperIdentity ?? 0;
    cognito.failNext('GetOpenIdTokenForDeveloperIdentity', 'TooManyRequestsException');
    await expect(developerToken()).resolves.toMatchObject({ IdentityId: expect.stringMatching(ID) });
    expect(cognito.calls.GetOpenIdTokenForDeveloperIdentity).toBe(before + 2);
  });

  it('is reached through AWS_ENDPOINT_URL_COGNITO_IDENTITY', async () => {
    const saved = process.env.AWS_ENDPOINT_URL_COGNITO_IDENTITY;
    process.env.AWS_ENDPOINT_URL_COGNITO_IDENTITY = cognito.url;
    const viaEnv = new CognitoIdentityClient({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    try {
      const out = await viaEnv.send(
        new GetOpenIdTokenForDeveloperIdentityCommand({ IdentityPoolId: poolId, Logins: { fedbroker: 'env-user' } }),
      );
      expect(out.IdentityId).toMatch(ID);
    } finally {
      viaEnv.destroy();
      if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_COGNITO_IDENTITY;
      else process.env.AWS_ENDPOINT_URL_COGNITO_IDENTITY = saved;
    }
  });
});

// The STS stand-in, as the real @aws-sdk/client-sts sees it: AssumeRoleWithWebIdentity (unsigned)
// against tokens from a real HTTP issuer, the trust-policy refusals, session tags and typed errors.
import { CognitoIdentityClient, GetOpenIdTokenForDeveloperIdentityCommand } from '@aws-sdk/client-cognito-identity';
import {
  AssumeRoleCommand,
  AssumeRoleWithWebIdentityCommand,
  ExpiredTokenException,
  IDPCommunicationErrorException,
  IDPRejectedClaimException,
  InvalidIdentityTokenException,
  PackedPolicyTooLargeException,
  STSClient,
  STSServiceException,
  type AssumeRoleWithWebIdentityCommandInput,
} from '@aws-sdk/client-sts';
import { generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startCognitoStandIn } from '../../support/cognito-stand-in.ts';
import { startStsStandIn, type StsStandIn } from '../../support/sts-stand-in.ts';
import { startUpstreamIssuer, type UpstreamIssuer } from '../../support/upstream-issuer.ts';
import { rejection } from '../../support/rejection.ts';

const ROLE = 'arn:aws:iam::111122223333:role/workload';
const TAGGING_ROLE = 'arn:aws:iam::111122223333:role/tagged';
const TAGS = 'https://aws.amazon.com/tags';

let sts: StsStandIn;
let issuer: UpstreamIssuer;
let client: STSClient;

beforeAll(async () => {
  [sts, issuer] = await Promise.all([startStsStandIn(), startUpstreamIssuer({ alg: 'ES256' })]);
  // No credentials: AssumeRoleWithWebIdentity is an unsigned call.
  client = new STSClient({ region: 'us-east-1', endpoint: sts.url });
  sts.addRole({ roleArn: ROLE, providerUrl: issuer.issuer, audience: 'sts.amazonaws.com', subjectLike: 'tenant-a:workload-?:*' });
  sts.addRole({
    roleArn: TAGGING_ROLE,
    providerUrl: issuer.issuer,
    audience: 'sts.amazonaws.com',
    subjectLike: '*',
    allowTagSession: true,
    maxSessionDuration: 7200,
  });
});
afterAll(async () => {
  client.destroy();
  await Promise.all([sts.close(), issuer.close()]);
});
beforeEach(() => {
  sts.sessions.length = 0;
  issuer.down = false;
});

type Failure = Error & { $metadata: { httpStatusCode?: number }; $fault: string };
async function failure(p: Promise<unknown>): Promise<Failure> {
  const e = await rejection(p, STSServiceException);
  return e as Failure;
}

const goodClaims = { aud: 'sts.amazonaws.com', sub: 'tenant-a:workload-1:prod' };
const assume = async (input: Partial<AssumeRoleWithWebIdentityCommandInput> & { claims?: Record<string, unknown> } = {}) => {
  const { claims, ...rest } = input;
  const WebIdentityToken = rest.WebIdentityToken ?? (await issuer.token({ ...goodClaims, ...claims }));
  return client.send(
    new AssumeRoleWithWebIdentityCommand({ RoleArn: ROLE, RoleSessionName: 'fedbroker-session', ...rest, WebIdentityToken }),
  );
};
const tagged = (principal_tags: unknown, extra: Record<string, unknown> = {}) =>
  assume({ RoleArn: TAGGING_ROLE, claims: { [TAGS]: { principal_tags, ...extra } } });

describe('AssumeRoleWithWebIdentity', () => {
  it('returns credentials and the identities STS saw, parsed by the real SDK', async () => {
    const out = await assume({ DurationSeconds: 900 });
    expect(out.Credentials?.AccessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/);
    expect(out.Credentials?.SecretAccessKey).toBeTruthy();
    expect(out.Credentials?.SessionToken).toBeTruthy();
    expect(out.Credentials?.Expiration).toBeInstanceOf(Date);
    expect(Math.abs(out.Credentials!.Expiration!.getTime() - (Date.now() + 900_000))).toBeLessThan(5000);
    expect(out.SubjectFromWebIdentityToken).toBe('tenant-a:workload-1:prod');
    expect(out.AssumedRoleUser?.Arn).toBe('arn:aws:sts::111122223333:assumed-role/workload/fedbroker-session');
    expect(out.AssumedRoleUser?.AssumedRoleId).toMatch(/^AROA[A-Z2-7]{17}:fedbroker-session$/);
    expect(out.Provider).toBe(`arn:aws:iam::111122223333:oidc-provider/${issuer.issuer.replace('http://', '')}`);
    expect(out.Audience).toBe('sts.amazonaws.com');
    expect(out.PackedPolicySize).toBeUndefined();
    expect(out.$metadata.httpStatusCode).toBe(200);
    expect(sts.sessions).toEqual([
      {
        roleArn: ROLE,
        sessionName: 'fedbroker-session',
        subject: 'tenant-a:workload-1:prod',
        audience: 'sts.amazonaws.com',
        tags: {},
        transitiveTagKeys: [],
        durationSeconds: 900,
      },
    ]);
    expect(sts.calls.AssumeRoleWithWebIdentity).toBeGreaterThan(0);
  });

  it('defaults DurationSeconds to 3600 and fetches the issuer’s keys through discovery', async () => {
    const hits = issuer.hits['/jwks'] ?? 0;
    const out = await assume();
    expect(Math.abs(out.Credentials!.Expiration!.getTime() - (Date.now() + 3_600_000))).toBeLessThan(5000);
    expect(sts.sessions[0]?.durationSeconds).toBe(3600);
    expect(issuer.hits['/jwks']).toBe(hits + 1);
  });

  it('accepts an RS512 token issued by the Cognito stand-in (the Cognito → STS flow)', async () => {
    const cognito = await startCognitoStandIn();
    const identity = new CognitoIdentityClient({
      region: 'us-east-1',
      endpoint: cognito.url,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    try {
      const poolId = cognito.createPool({ developerProvider: 'fedbroker' });
      const { IdentityId, Token } = await identity.send(
        new GetOpenIdTokenForDeveloperIdentityCommand({
          IdentityPoolId: poolId,
          Logins: { fedbroker: 'w1' },
          PrincipalTags: { tenant: 'tenant-a' },
        }),
      );
      const roleArn = 'arn:aws:iam::111122223333:role/cognito-authenticated';
      sts.addRole({ roleArn, providerUrl: cognito.url, audience: poolId, subjectLike: IdentityId!, allowTagSession: true });
      const out = await client.send(
        new AssumeRoleWithWebIdentityCommand({ RoleArn: roleArn, RoleSessionName: 'cognito', WebIdentityToken: Token }),
      );
      expect(out.SubjectFromWebIdentityToken).toBe(IdentityId);
      expect(out.Audience).toBe(poolId);
      expect(sts.sessions.at(-1)).toMatchObject({ roleArn, subject: IdentityId, audience: poolId, tags: { tenant: 'tenant-a' } });
    } finally {
      identity.destroy();
      await cognito.close();
    }
  });

  it('refuses an unknown role, or a role that does not trust the token’s provider, with AccessDenied (403)', async () => {
    const unknown = await failure(assume({ RoleArn: 'arn:aws:iam::111122223333:role/nobody' }));
    expect(unknown.name).toBe('AccessDenied');
    expect(unknown.message).toBe('Not authorized to perform sts:AssumeRoleWithWebIdentity');
    expect(unknown.$metadata.httpStatusCode).toBe(403);
    const other = await startUpstreamIssuer();
    try {
      sts.addRole({
        roleArn: 'arn:aws:iam::111122223333:role/other',
        providerUrl: other.issuer,
        audience: 'sts.amazonaws.com',
        subjectLike: '*',
      });
      expect((await failure(assume({ WebIdentityToken: await other.token(goodClaims) }))).name).toBe('AccessDenied');
    } finally {
      await other.close();
    }
  });

  it.each([
    ['the audience differs', { aud: 'someone-else' }],
    ['the subject does not match StringLike (? is one character)', { sub: 'tenant-a:workload-12:prod' }],
    ['the subject belongs to another tenant', { sub: 'tenant-b:workload-1:prod' }],
  ])('refuses with AccessDenied when %s', async (_name, claims) => {
    const e = await failure(assume({ claims }));
    expect(e.name).toBe('AccessDenied');
    expect(sts.sessions).toEqual([]);
  });

  it('refuses a token from an issuer no provider is registered for with InvalidIdentityToken', async () => {
    const stranger = await startUpstreamIssuer();
    try {
      const e = await failure(assume({ WebIdentityToken: await stranger.token(goodClaims) }));
      expect(e).toBeInstanceOf(InvalidIdentityTokenException);
      expect(e.message).toBe(`No OpenIDConnect provider found in your account for ${stranger.issuer}`);
      expect(e.$metadata.httpStatusCode).toBe(400);
    } finally {
      await stranger.close();
    }
  });

  it('refuses tokens that are not verifiable JWS with InvalidIdentityToken', async () => {
    const hs256 = await new SignJWT({ ...goodClaims, iss: issuer.issuer })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(new Uint8Array(32));
    const { privateKey } = await generateKeyPair('ES256');
    const forged = await new SignJWT({ ...goodClaims, iss: issuer.issuer })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);
    for (const WebIdentityToken of ['not-a-jwt-at-all', hs256, forged]) {
      expect(await failure(assume({ WebIdentityToken }))).toBeInstanceOf(InvalidIdentityTokenException);
    }
  });

  it('refuses a token signed with a key the issuer no longer publishes', async () => {
    const token = await issuer.token(goodClaims);
    await issuer.rotate();
    expect(await failure(assume({ WebIdentityToken: token }))).toBeInstanceOf(InvalidIdentityTokenException);
  });

  it('refuses a token without iat with InvalidIdentityToken', async () => {
    expect(await failure(assume({ claims: { iat: undefined } }))).toBeInstanceOf(InvalidIdentityTokenException);
  });

  it('refuses an expired token with ExpiredTokenException, allowing five minutes of skew', async () => {
    const now = Math.floor(Date.now() / 1000);
    const e = await failure(assume({ claims: { iat: now - 1000, exp: now - 301 } }));
    expect(e).toBeInstanceOf(ExpiredTokenException);
    expect(e.message).toMatch(/^Token expired: current date\/time \d+ must be before the expiration date\/time \d+$/);
    await expect(assume({ claims: { iat: now - 1000, exp: now - 200 } })).resolves.toMatchObject({
      SubjectFromWebIdentityToken: goodClaims.sub,
    });
  });

  it('answers IDPCommunicationError when the issuer’s keys cannot be fetched', async () => {
    issuer.down = true;
    const e = await failure(assume());
    expect(e).toBeInstanceOf(IDPCommunicationErrorException);
    expect(e.$metadata.httpStatusCode).toBe(400);
  });

  it.each([
    ['a one-character RoleSessionName', { RoleSessionName: 'x' }],
    ['a RoleSessionName with a space', { RoleSessionName: 'bad name' }],
    ['a RoleSessionName over 64 characters', { RoleSessionName: 's'.repeat(65) }],
    ['DurationSeconds below 900', { DurationSeconds: 899 }],
    ['DurationSeconds above the role’s MaxSessionDuration', { DurationSeconds: 3601 }],
  ])('refuses %s with ValidationError', async (_name, input) => {
    const e = await failure(assume(input));
    expect(e.name).toBe('ValidationError');
    expect(e.$metadata.httpStatusCode).toBe(400);
  });

  it('allows DurationSeconds up to a role’s own MaxSessionDuration', async () => {
    const out = await assume({ RoleArn: TAGGING_ROLE, DurationSeconds: 7200 });
    expect(Math.abs(out.Credentials!.Expiration!.getTime() - (Date.now() + 7_200_000))).toBeLessThan(5000);
  });
});

describe('session tags from the https://aws.amazon.com/tags claim', () => {
  it('records principal tags and transitive keys when the role allows sts:TagSession', async () => {
    const out = await tagged({ tenant: ['tenant-a'], team: ['payments'] }, { transitive_tag_keys: ['tenant'] });
    expect(out.PackedPolicySize).toEqual(expect.any(Number));
    expect(sts.sessions).toEqual([
      expect.objectContaining({ roleArn: TAGGING_ROLE, tags: { tenant: 'tenant-a', team: 'payments' }, transitiveTagKeys: ['tenant'] }),
    ]);
  });

  it('refuses tags with AccessDenied when the role does not allow sts:TagSession', async () => {
    const e = await failure(assume({ claims: { [TAGS]: { principal_tags: { tenant: ['tenant-a'] } } } }));
    expect(e.name).toBe('AccessDenied');
  });

  it.each([
    ['a multi-valued tag', { tenant: ['a', 'b'] }, {}],
    ['a bare string value', { tenant: 'a' }, {}],
    ['more than 50 tags', Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, ['v']])), {}],
    ['a key over 128 characters', { ['k'.repeat(129)]: ['v'] }, {}],
    ['a value over 256 characters', { k: ['v'.repeat(257)] }, {}],
    ['a value with a character outside the allowed set', { k: ['a;b'] }, {}],
    ['keys that differ only in case', { Tenant: ['a'], tenant: ['b'] }, {}],
    ['transitive keys that are not principal tags', { tenant: ['a'] }, { transitive_tag_keys: ['team'] }],
  ])('refuses %s with InvalidIdentityToken', async (_name, principal, extra) => {
    expect(await failure(tagged(principal, extra))).toBeInstanceOf(InvalidIdentityTokenException);
  });

  it('refuses tags within the per-tag limits whose packed size is too large with PackedPolicyTooLarge', async () => {
    const e = await failure(tagged(Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`key-${i}`, ['v'.repeat(256)]]))));
    expect(e).toBeInstanceOf(PackedPolicyTooLargeException);
    expect(e.message).toMatch(/^Packed size of session tags consumes \d+% of allotted space\.$/);
  });
});

describe('fault injection and endpoints', () => {
  it('fails the next calls with the codes the SDK maps to its exceptions', async () => {
    const once = new STSClient({ region: 'us-east-1', endpoint: sts.url, maxAttempts: 1 });
    try {
      sts.failNext('AssumeRoleWithWebIdentity', 'IDPRejectedClaim');
      const rejected = await failure(
        once.send(
          new AssumeRoleWithWebIdentityCommand({ RoleArn: ROLE, RoleSessionName: 's1', WebIdentityToken: await issuer.token(goodClaims) }),
        ),
      );
      expect(rejected).toBeInstanceOf(IDPRejectedClaimException);
      expect(rejected.$metadata.httpStatusCode).toBe(403);
      sts.failNext('*', 'InternalFailure');
      const internal = await failure(
        once.send(
          new AssumeRoleWithWebIdentityCommand({ RoleArn: ROLE, RoleSessionName: 's1', WebIdentityToken: await issuer.token(goodClaims) }),
        ),
      );
      expect(internal.name).toBe('InternalFailure');
      expect(internal.$metadata.httpStatusCode).toBe(500);
      expect(internal.$fault).toBe('server');
      sts.failNext('AssumeRoleWithWebIdentity', 'Throttling', 1, 400);
      expect(
        (
          await failure(
            once.send(
              new AssumeRoleWithWebIdentityCommand({
                RoleArn: ROLE,
                RoleSessionName: 's1',
                WebIdentityToken: await issuer.token(goodClaims),
              }),
            ),
          )
        ).name,
      ).toBe('Throttling');
    } finally {
      once.destroy();
    }
  });

  it('is reached through AWS_ENDPOINT_URL_STS', async () => {
    const saved = process.env.AWS_ENDPOINT_URL_STS;
    process.env.AWS_ENDPOINT_URL_STS = sts.url;
    const viaEnv = new STSClient({ region: 'us-east-1' });
    try {
      const out = await viaEnv.send(
        new AssumeRoleWithWebIdentityCommand({ RoleArn: ROLE, RoleSessionName: 'env', WebIdentityToken: await issuer.token(goodClaims) }),
      );
      expect(out.AssumedRoleUser?.Arn).toBe('arn:aws:sts::111122223333:assumed-role/workload/env');
    } finally {
      viaEnv.destroy();
      if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_STS;
      else process.env.AWS_ENDPOINT_URL_STS = saved;
    }
  });
});

describe('AssumeRole (signed with the caller’s credentials)', () => {
  const ASSUMABLE = 'arn:aws:iam::444455556666:role/cognito-vend';
  const signed = () =>
    new STSClient({ region: 'us-east-1', endpoint: sts.url, credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' } });

  it('returns temporary credentials for a registered role, parsed by the real SDK', async () => {
    sts.addAssumableRole(ASSUMABLE);
    const caller = signed();
    try {
      const before = sts.calls.AssumeRole ?? 0;
      const out = await caller.send(new AssumeRoleCommand({ RoleArn: ASSUMABLE, RoleSessionName: 'fedbroker-vend', DurationSeconds: 900 }));
      expect(out.Credentials?.AccessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/);
      expect(out.Credentials?.SecretAccessKey).toBeTruthy();
      expect(out.Credentials?.SessionToken).toBeTruthy();
      expect(Math.abs(out.Credentials!.Expiration!.getTime() - (Date.now() + 900_000))).toBeLessThan(5000);
      expect(out.AssumedRoleUser?.Arn).toBe('arn:aws:sts::444455556666:assumed-role/cognito-vend/fedbroker-vend');
      expect(out.AssumedRoleUser?.AssumedRoleId).toMatch(/^AROA[A-Z2-7]{17}:fedbroker-vend$/);
      expect(sts.calls.AssumeRole).toBe(before + 1);
      expect(sts.assumed.at(-1)).toEqual({
        roleArn: ASSUMABLE,
        sessionName: 'fedbroker-vend',
        durationSeconds: 900,
        accessKeyId: out.Credentials?.AccessKeyId,
      });
    } finally {
      caller.destroy();
    }
  });

  it('refuses a role it does not know with AccessDenied (403), unsigned calls and out-of-range parameters', async () => {
    const caller = signed();
    try {
      const denied = await failure(
        caller.send(new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::111122223333:role/other', RoleSessionName: 'fedbroker-vend' })),
      );
      expect(denied.name).toBe('AccessDenied');
      expect(denied.$metadata.httpStatusCode).toBe(403);
      expect((await failure(caller.send(new AssumeRoleCommand({ RoleArn: ASSUMABLE, RoleSessionName: 'x' })))).name).toBe(
        'ValidationError',
      );
      expect((await failure(caller.send(new AssumeRoleCommand({ RoleArn: ASSUMABLE, RoleSessionName: 'bad name' })))).name).toBe(
        'ValidationError',
      );
      expect(
        (await failure(caller.send(new AssumeRoleCommand({ RoleArn: ASSUMABLE, RoleSessionName: 'ok', DurationSeconds: 3601 })))).name,
      ).toBe('ValidationError');
    } finally {
      caller.destroy();
    }
    const res = await fetch(sts.url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ Action: 'AssumeRole', Version: '2011-06-15', RoleArn: ASSUMABLE, RoleSessionName: 'anon' }),
    });
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('<Code>MissingAuthenticationToken</Code>');
  });
});

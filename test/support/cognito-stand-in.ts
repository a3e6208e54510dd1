// A stand-in for Amazon Cognito Identity (identity pools) speaking its real wire protocol (AWS JSON
// 1.1: POST /, header `X-Amz-Target: AWSCognitoIdentityService.<Operation>`), for the operations
// fedbroker uses: GetOpenIdTokenForDeveloperIdentity and GetCredentialsForIdentity. No Cognito
// emulator exists on npm or Debian; this follows the Cognito Identity API reference (parameter
// constraints, typed errors as `__type` + `x-amzn-ErrorType`, timestamps as epoch seconds) so the
// real @aws-sdk/client-cognito-identity is exercised over HTTP. The same server is also the token
// issuer, as cognito-identity.amazonaws.com is: `/.well-known/openid-configuration` and the JWKS at
// `/.well-known/jwks_uri` (Cognito's own path), with RS512 tokens shaped like Cognito's.
import { randomBytes, randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { AwsServiceError, serveAwsJson } from './aws-json-service.ts';
import { STAND_IN_ACCOUNT } from './kms-stand-in.ts';

const REGION = 'us-east-1';
const SERVICE = 'AWSCognitoIdentityService';
/** The Logins key under which GetCredentialsForIdentity accepts a Cognito-issued OpenID token. */
const COGNITO_LOGIN = 'cognito-identity.amazonaws.com';
const POOL_ARN_CLAIM = 'https://cognito-identity.amazonaws.com/identity-pool-arn';
const TAGS_CLAIM = 'https://aws.amazon.com/tags';

interface Pool {
  id: string;
  developerProvider: string;
  allowUnauthenticated: boolean;
  /** Identity ids created in this pool. */
  identities: Set<string>;
}

export interface CognitoStandIn {
  /** The API endpoint, and also the token issuer (`iss`). */
  url: string;
  region: string;
  /** Calls received per operation (and per path for the discovery and JWKS GETs). */
  calls: Record<string, number>;
  /** The last operation's parsed JSON input. */
  lastRequest: Record<string, unknown> | undefined;
  /** The access key id the last operation was signed with, if it was signed. */
  lastAccessKeyId: string | undefined;
  /** Registers an identity pool with a developer provider name; returns its id `<region>:<guid>`. */
  createPool(options: { developerProvider: string; allowUnauthenticated?: boolean }): string;
  /** Makes the next `count` calls of `operation` (or of every operation with `*`) fail with `type`. */
  failNext(operation: string, type: string, count?: number, status?: number): void;
  /** Issues an OpenID token directly, for tests that need odd shapes (expired, unauthenticated, other provider). */
  issueToken(options: {
    poolId: string;
    identityId?: string;
    amr: string[];
    iat?: number;
    exp?: number;
    extra?: Record<string, unknown>;
  }): Promise<string>;
  close(): Promise<void>;
}

export async function startCognitoStandIn(): Promise<CognitoStandIn> {
  const pools = new Map<string, Pool>();
  /** `<pool>\n<provider>\n<user id>` → identity id: the same login always maps to the same identity. */
  const links = new Map<string, string>();

  const kid = `${REGION}1`;
  const { privateKey, publicKey } = await generateKeyPair('RS512');
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS512', use: 'sig' };
  let issuer = '';

  const sign = (claims: JWTPayload) => new SignJWT(claims).setProtectedHeader({ kid, typ: 'JWS', alg: 'RS512' }).sign(privateKey);

  const poolOf = (id: unknown): Pool => {
    const pool = typeof id === 'string' ? pools.get(id) : undefined;
    if (!pool) throw new AwsServiceError('ResourceNotFoundException', `IdentityPool '${String(id)}' not found.`);
    return pool;
  };

  const ops: Record<string, (input: Record<string, unknown>, signed: boolean) => Promise<unknown>> = {
    async GetOpenIdTokenForDeveloperIdentity(input, signed) {
      // "You must use AWS developer credentials to call this operation."
      if (!signed) throw new AwsServiceError('MissingAuthenticationTokenException', 'Missing Authentication Token');
      requirePattern(input.IdentityPoolId, 'identityPoolId', /^[\w-]+:[0-9a-f-]+$/, 55);
      if (input.IdentityId !== undefined) requirePattern(input.IdentityId, 'identityId', /^[\w-]+:[0-9a-f-]+$/, 55);
      const logins = requireLogins(input.Logins);
      const duration = input.TokenDuration === undefined ? 900 : input.TokenDuration;
      if (typeof duration !== 'number' || !Number.isInteger(duration) || duration < 1 || duration > 86400) {
        throw new AwsServiceError(
          'InvalidParameterException',
          `1 validation error detected: Value '${String(duration)}' at 'tokenDuration' failed to satisfy ` +
            `constraint: Member must have value between 1 and 86400`,
        );
      }
      const tags = principalTags(input.PrincipalTags);
      const pool = poolOf(input.IdentityPoolId);
      const entries = Object.entries(logins);
      // Only the pool's developer provider: public providers are not configured on stand-in pools.
      const [provider, userId] = entries[0] ?? [];
      if (entries.length !== 1 || provider !== pool.developerProvider || typeof userId !== 'string' || userId.length === 0) {
        throw new AwsServiceError(
          'NotAuthorizedException',
          `Logins don't match. Please include at least one valid login for this identity or identity pool.`,
        );
      }
      const link = `${pool.id}\n${provider}\n${userId}`;
      let identityId = links.get(link);
      if (typeof input.IdentityId === 'string') {
        if (!pool.identities.has(input.IdentityId))
          throw new AwsServiceError('ResourceNotFoundException', `Identity '${input.IdentityId}' not found.`);
        if (identityId && identityId !== input.IdentityId)
          throw new AwsServiceError('ResourceConflictException', 'Login is already linked to another identity.');
        identityId = input.IdentityId;
      }
      identityId ??= `${REGION}:${randomUUID()}`;
      links.set(link, identityId);
      pool.identities.add(identityId);
      const iat = Math.floor(Date.now() / 1000);
      const token = await sign({
        sub: identityId,
        aud: pool.id,
        amr: ['authenticated', provider, `${provider}:${REGION}:${pool.id.slice(pool.id.indexOf(':') + 1)}:${userId}`],
        [POOL_ARN_CLAIM]: poolArn(pool.id),
        ...(tags ? { [TAGS_CLAIM]: { principal_tags: Object.fromEntries(Object.entries(tags).map(([k, v]) => [k, [v]])) } } : {}),
        iss: issuer,
        exp: iat + duration,
        iat,
      });
      return { IdentityId: identityId, Token: token };
    },

    async GetCredentialsForIdentity(input) {
      requirePattern(input.IdentityId, 'identityId', /^[\w-]+:[0-9a-f-]+$/, 55);
      const identityId = input.IdentityId as string;
      const pool = [...pools.values()].find((p) => p.identities.has(identityId));
      if (!pool) throw new AwsServiceError('ResourceNotFoundException', `Identity '${identityId}' not found.`);
      const logins = input.Logins === undefined ? {} : requireLogins(input.Logins);
      const token = logins[COGNITO_LOGIN];
      if (Object.keys(logins).length !== 1 || typeof token !== 'string') {
        throw new AwsServiceError(
          'NotAuthorizedException',
          `Logins don't match. Please include at least one valid login for this identity or identity pool.`,
        );
      }
      let claims: JWTPayload;
      try {
        // Signature and issuer only: expiry is reported with Cognito's own message below.
        ({ payload: claims } = await jwtVerify(token, publicKey, {
          algorithms: ['RS512'],
          issuer,
          clockTolerance: Number.MAX_SAFE_INTEGER,
        }));
      } catch {
        throw new AwsServiceError('NotAuthorizedException', "Invalid login token. Couldn't verify signed token.");
      }
      const now = Math.floor(Date.now() / 1000);
      if (typeof claims.exp !== 'number' || now >= claims.exp) {
        throw new AwsServiceError('NotAuthorizedException', `Invalid login token. Token expired: ${now} >= ${String(claims.exp)}`);
      }
      if (claims.aud !== pool.id)
        throw new AwsServiceError(
          'NotAuthorizedException',
          'Invalid login token. Token is not from a supported provider of this identity pool.',
        );
      if (claims.sub !== identityId)
        throw new AwsServiceError('NotAuthorizedException', 'Invalid login token. Token does not belong to this identity.');
      const amr = Array.isArray(claims.amr) ? claims.amr : [];
      if (!amr.includes('authenticated') && !(amr.includes('unauthenticated') && pool.allowUnauthenticated)) {
        throw new AwsServiceError('NotAuthorizedException', 'Unauthenticated access is not supported for this identity pool.');
      }
      return {
        IdentityId: identityId,
        Credentials: {
          AccessKeyId: accessKeyId(),
          SecretKey: randomBytes(30).toString('base64'),
          SessionToken: randomBytes(300).toString('base64'),
          Expiration: now + 3600,
        },
      };
    },
  };

  const service = await serveAwsJson({
    target: SERVICE,
    internalError: 'InternalErrorException',
    operations: Object.fromEntries(
      Object.entries(ops).map(([name, op]) => [name, (input: Record<string, unknown>, req: { signed: boolean }) => op(input, req.signed)]),
    ),
    get: (path) =>
      path === '/.well-known/openid-configuration'
        ? {
            issuer,
            jwks_uri: `${issuer}/.well-known/jwks_uri`,
            response_types_supported: ['code', 'token'],
            subject_types_supported: ['public'],
            id_token_signing_alg_values_supported: ['RS512'],
            scopes_supported: ['openid', 'email', 'phone', 'profile'],
            claims_supported: ['aud', 'iss', 'sub', 'amr', 'exp', 'iat'],
          }
        : path === '/.well-known/jwks_uri'
          ? { keys: [jwk] }
          : undefined,
  });
  issuer = service.url;

  return {
    url: service.url,
    region: REGION,
    calls: service.calls,
    get lastRequest() {
      return service.lastRequest;
    },
    get lastAccessKeyId() {
      return service.lastAccessKeyId;
    },
    createPool({ developerProvider, allowUnauthenticated = false }) {
      const id = `${REGION}:${randomUUID()}`;
      pools.set(id, { id, developerProvider, allowUnauthenticated, identities: new Set() });
      return id;
    },
    failNext: service.failNext,
    async issueToken({ poolId, identityId = `${REGION}:${randomUUID()}`, amr, iat = Math.floor(Date.now() / 1000), exp, extra = {} }) {
      pools.get(poolId)?.identities.add(identityId);
      return sign({
        sub: identityId,
        aud: poolId,
        amr,
        [POOL_ARN_CLAIM]: poolArn(poolId),
        iss: issuer,
        exp: exp ?? iat + 900,
        iat,
        ...extra,
      });
    },
    close: service.close,
  };
}

function poolArn(poolId: string): string {
  return `arn:aws:cognito-identity:${REGION}:${STAND_IN_ACCOUNT}:identitypool/${poolId}`;
}

/** `ASIA` + 16 characters of [A-Z2-7]: the shape of a temporary access key id. */
function accessKeyId(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  return `ASIA${[...randomBytes(16)].map((b) => alphabet[b % 32]).join('')}`;
}

function requirePattern(value: unknown, member: string, pattern: RegExp, max: number): void {
  if (typeof value !== 'string') {
    throw new AwsServiceError(
      'InvalidParameterException',
      `1 validation error detected: Value null at '${member}' failed to satisfy constraint: Member must not be null`,
    );
  }
  if (value.length < 1 || value.length > max || !pattern.test(value)) {
    throw new AwsServiceError(
      'InvalidParameterException',
      `1 validation error detected: Value '${value}' at '${member}' failed to satisfy constraint: Member ` +
        `must satisfy regular expression pattern: ${pattern.source.slice(1, -1)}`,
    );
  }
}

/** LoginsMap: at most 10 entries, provider names 1–128 characters, tokens 1–50000 characters. */
function requireLogins(value: unknown): Record<string, string> {
  if (value === undefined || value === null) {
    throw new AwsServiceError(
      'InvalidParameterException',
      "1 validation error detected: Value null at 'logins' failed to satisfy constraint: Member must not be null",
    );
  }
  if (typeof value !== 'object' || Array.isArray(value)) throw new AwsServiceError('SerializationException', 'Logins must be a map');
  const entries = Object.entries(value);
  if (
    entries.length > 10 ||
    entries.some(([k, v]) => k.length < 1 || k.length > 128 || typeof v !== 'string' || v.length < 1 || v.length > 50000)
  ) {
    throw new AwsServiceError(
      'InvalidParameterException',
      "1 validation error detected: Value at 'logins' failed to satisfy constraint: Map value must satisfy " +
        'constraint: [Member must have length less than or equal to 50000, Member must have length greater ' +
        'than or equal to 1]',
    );
  }
  return value as Record<string, string>;
}

/** PrincipalTags: at most 50, keys 1–128 characters, values 1–256 characters. */
function principalTags(value: unknown): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new AwsServiceError('SerializationException', 'PrincipalTags must be a map');
  const entries = Object.entries(value);
  if (entries.length > 50) {
    throw new AwsServiceError(
      'InvalidParameterException',
      "1 validation error detected: Value at 'principalTags' failed to satisfy constraint: Member must " +
        'have length less than or equal to 50',
    );
  }
  for (const [k, v] of entries) {
    if (k.length < 1 || k.length > 128) {
      throw new AwsServiceError(
        'InvalidParameterException',
        `1 validation error detected: Value '${k}' at 'principalTags' failed to satisfy constraint: Map keys ` +
          `must satisfy constraint: [Member must have length less than or equal to 128, Member must have ` +
          `length greater than or equal to 1]`,
      );
    }
    if (typeof v !== 'string' || v.length < 1 || v.length > 256) {
      throw new AwsServiceError(
        'InvalidParameterException',
        `1 validation error detected: Value at 'principalTags.${k}' failed to satisfy constraint: Map value ` +
          `must satisfy constraint: [Member must have length less than or equal to 256, Member must have ` +
          `length greater than or equal to 1]`,
      );
    }
  }
  return value as Record<string, string>;
}

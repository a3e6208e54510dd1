// A stand-in for AWS STS speaking its real wire protocol (AWS Query: POST / with a form-encoded
// `Action=…&Version=2011-06-15&…` body, XML responses in the STS namespace), for the one operation
// fedbroker's tokens are redeemed with: AssumeRoleWithWebIdentity, and AssumeRole (signed with the
// caller's credentials; fedbroker uses it to reach identity pools in other accounts). No STS emulator exists on npm or
// Debian; this follows the STS API reference and the IAM user guide on OIDC federation and session
// tags: it fetches the issuer's discovery document and JWKS over HTTP, verifies the token with jose,
// evaluates the role's trust policy (`<provider>:aud` StringEquals, `<provider>:sub` StringLike,
// sts:TagSession) and answers with the error codes the real @aws-sdk/client-sts maps to its typed
// exceptions (`ExpiredTokenException` is that error's wire code; see the SDK's awsQueryError traits).
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { compactVerify, createLocalJWKSet, decodeProtectedHeader, type JSONWebKeySet } from 'jose';
import { listen, readBody } from './http-server.ts';

const ACCOUNT = '111122223333';
const NS = 'https://sts.amazonaws.com/doc/2011-06-15/';
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512'];
/** AWS allows five minutes of clock skew on `exp`. */
const SKEW_SECONDS = 300;
const TAGS_CLAIM = 'https://aws.amazon.com/tags';
const SOURCE_IDENTITY_CLAIM = 'https://aws.amazon.com/source_identity';
/** Tag keys and values may contain letters, spaces, numbers and `_.:/=+-@` (STS API reference, Tag). */
const TAG_TEXT = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
/**
 * STS packs session tags into the session token under a size limit it does not publish; the
 * stand-in's model of it is the tags' UTF-8 size against this budget, reported as a percentage
 * the way PackedPolicyTooLarge and PackedPolicySize are.
 */
const PACKED_TAG_BUDGET = 8192;
/** What STS answers on the wire for each error, when `failNext` is not told otherwise. */
const STATUS: Record<string, number> = {
  AccessDenied: 403,
  MissingAuthenticationToken: 403,
  InvalidClientTokenId: 403,
  IDPRejectedClaim: 403,
  RegionDisabledException: 403,
  InternalFailure: 500,
  ServiceUnavailable: 503,
};

interface StsRole {
  roleArn: string; // arn:aws:iam::111122223333:role/<name>
  /** The OIDC provider this role trusts: its issuer URL as registered (https://host/path or, in tests, http://127.0.0.1:port). */
  providerUrl: string;
  /** The trust policy's conditions, as IAM evaluates them on `<provider host/path>:aud` and `:sub`. */
  audience: string; // StringEquals <host>:aud
  subjectLike: string; // StringLike <host>:sub, with * and ? wildcards
  allowTagSession?: boolean; // sts:TagSession allowed; required when the token carries https://aws.amazon.com/tags
  allowSetSourceIdentity?: boolean; // sts:SetSourceIdentity allowed; required when the token carries https://aws.amazon.com/source_identity
  sourceIdentityLike?: string; // StringLike on sts:SourceIdentity, when the trust policy has one
  maxSessionDuration?: number; // default 3600
}

interface StsSession {
  roleArn: string;
  sessionName: string;
  subject: string;
  audience: string;
  tags: Record<string, string>;
  transitiveTagKeys: string[];
  durationSeconds: number;
  /** The source identity STS set from the token, when it carried one. */
  sourceIdentity?: string;
}

/** A session issued by AssumeRole. */
interface StsAssumedSession {
  roleArn: string;
  sessionName: string;
  /** The ExternalId the caller passed, if any. */
  externalId: string | undefined;
  durationSeconds: number;
  accessKeyId: string;
}

export interface StsStandIn {
  url: string;
  /** Calls received per action. */
  calls: Record<string, number>;
  /** Sessions issued: what STS saw (subject, audience, session name, tags, transitive keys, duration). */
  sessions: StsSession[];
  /** Sessions issued by AssumeRole, with the access key id handed out. */
  assumed: StsAssumedSession[];
  addRole(role: StsRole): void;
  /**
   * Registers a role the (signed) caller may assume with AssumeRole; any other role → AccessDenied.
   * With `externalId`, the role's trust policy requires `sts:ExternalId` to equal it (IAM User
   * Guide, "How to use an external ID"): a call without it, or with another, is AccessDenied.
   */
  addAssumableRole(roleArn: string, options?: { externalId?: string }): void;
  /** Makes the next `count` calls of `action` (or of every action with `*`) fail with `code`. */
  failNext(action: string, code: string, count?: number, status?: number): void;
  close(): Promise<void>;
}

class StsError extends Error {
  readonly code: string;
  readonly status: number;
  constructor(code: string, message: string, status = STATUS[code] ?? 400) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

const notAuthorized = () => new StsError('AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity');
const invalidToken = (message: string) => new StsError('InvalidIdentityToken', message);

export async function startStsStandIn(): Promise<StsStandIn> {
  const roles = new Map<string, StsRole & { roleId: string }>();
  const calls: Record<string, number> = {};
  const sessions: StsSession[] = [];
  const assumable = new Map<string, { roleId: string; externalId: string | undefined }>();
  const assumed: StsAssumedSession[] = [];
  const failures: { action: string; code: string; count: number; status: number | undefined }[] = [];

  const actions: Record<string, (params: URLSearchParams, authorization: string | undefined) => Promise<string>> = {
    async AssumeRole(params, authorization) {
      // A signed call: STS authenticates the caller before it validates the request.
      if (!authorization) throw new StsError('MissingAuthenticationToken', 'Request is missing Authentication Token');
      if (!/^AWS4-HMAC-SHA256 Credential=[^/\s]+\//.test(authorization))
        throw new StsError('InvalidClientTokenId', 'The security token included in the request is invalid.');
      const roleArn = required(params, 'RoleArn', 'roleArn', 20, 2048);
      const sessionName = required(params, 'RoleSessionName', 'roleSessionName', 2, 64);
      if (!/^[\w+=,.@-]*$/.test(sessionName)) {
        throw validation(
          `Value '${sessionName}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy ` +
            `regular expression pattern: [\\w+=,.@-]*`,
        );
      }
      const rawDuration = params.get('DurationSeconds');
      const duration = rawDuration === null ? 3600 : Number(rawDuration);
      if (!Number.isInteger(duration))
        throw validation(`Value '${rawDuration}' at 'durationSeconds' failed to satisfy constraint: Member must be an integer`);
      if (duration < 900)
        throw validation(
          `Value '${duration}' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900`,
        );
      const externalId = params.get('ExternalId') ?? undefined;
      // STS API reference, AssumeRole: ExternalId 2-1224 characters of [\w+=,.@:\/-].
      if (externalId !== undefined && !/^[\w+=,.@:/-]{2,1224}$/.test(externalId)) {
        throw validation(
          `Value '${externalId}' at 'externalId' failed to satisfy constraint: Member must satisfy regular ` +
            `expression pattern: [\\w+=,.@:\\/-]*`,
        );
      }
      const role = assumable.get(roleArn);
      const roleId = role && (role.externalId === undefined || role.externalId === externalId) ? role.roleId : undefined;
      if (!roleId)
        throw new StsError(
          'AccessDenied',
          `User: arn:aws:iam::${ACCOUNT}:user/caller is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
        );
      // The role's MaxSessionDuration: IAM's default of one hour.
      if (duration > 3600) throw validation('The requested DurationSeconds exceeds the MaxSessionDuration set for this role.', false);
      const key = accessKeyId();
      assumed.push({ roleArn, sessionName, externalId, durationSeconds: duration, accessKeyId: key });
      const now = Math.floor(Date.now() / 1000);
      const account = roleArn.split(':')[4] ?? ACCOUNT;
      const roleName = roleArn.slice(roleArn.lastIndexOf('/') + 1);
      return [
        `<AssumeRoleResponse xmlns="${NS}">`,
        '<AssumeRoleResult>',
        '<Credentials>',
        `<AccessKeyId>${key}</AccessKeyId>`,
        `<SecretAccessKey>${randomBytes(30).toString('base64')}</SecretAccessKey>`,
        `<SessionToken>${randomBytes(300).toString('base64')}</SessionToken>`,
        `<Expiration>${new Date((now + duration) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z')}</Expiration>`,
        '</Credentials>',
        '<AssumedRoleUser>',
        `<Arn>arn:aws:sts::${account}:assumed-role/${xml(roleName)}/${xml(sessionName)}</Arn>`,
        `<AssumedRoleId>${roleId}:${xml(sessionName)}</AssumedRoleId>`,
        '</AssumedRoleUser>',
        '</AssumeRoleResult>',
        `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata>`,
        '</AssumeRoleResponse>',
      ].join('');
    },

    async AssumeRoleWithWebIdentity(params) {
      // Request validation (the API reference's constraints) comes before any evaluation.
      const roleArn = required(params, 'RoleArn', 'roleArn', 20, 2048);
      const sessionName = required(params, 'RoleSessionName', 'roleSessionName', 2, 64);
      if (!/^[\w+=,.@-]*$/.test(sessionName)) {
        throw validation(
          `Value '${sessionName}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy ` +
            `regular expression pattern: [\\w+=,.@-]*`,
        );
      }
      const token = required(params, 'WebIdentityToken', 'webIdentityToken', 4, 20000);
      const rawDuration = params.get('DurationSeconds');
      const duration = rawDuration === null ? 3600 : Number(rawDuration);
      if (!Number.isInteger(duration))
        throw validation(`Value '${rawDuration}' at 'durationSeconds' failed to satisfy constraint: Member must be an integer`);
      if (duration < 900)
        throw validation(
          `Value '${duration}' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900`,
        );
      if (duration > 43200)
        throw validation(
          `Value '${duration}' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200`,
        );

      const role = roles.get(roleArn);
      if (!role) throw notAuthorized();

      let alg: unknown;
      try {
        ({ alg } = decodeProtectedHeader(token));
      } catch {
        throw invalidToken("Couldn't parse the web identity token; it must be a JWS in compact serialization");
      }
      if (token.split('.').length !== 3)
        throw invalidToken("Couldn't parse the web identity token; it must be a JWS in compact serialization");
      if (typeof alg !== 'string' || !ALGORITHMS.includes(alg)) throw invalidToken(`Unsupported token signing algorithm ${String(alg)}`);
      const unverified = claimsOf(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
      const iss = unverified.iss;
      if (typeof iss !== 'string') throw invalidToken('The web identity token has no iss claim');
      // IAM finds the OIDC provider by the token's issuer, then asks whether this role trusts it.
      if (![...roles.values()].some((r) => r.providerUrl === iss))
        throw invalidToken(`No OpenIDConnect provider found in your account for ${iss}`);
      if (role.providerUrl !== iss) throw notAuthorized();

      const jwks = await fetchJwks(iss);
      let claims: Record<string, unknown>;
      try {
        const { payload } = await compactVerify(token, createLocalJWKSet(jwks), { algorithms: ALGORITHMS });
        claims = claimsOf(new TextDecoder().decode(payload));
      } catch {
        throw invalidToken("Couldn't verify the web identity token's signature with the identity provider's keys");
      }

      const now = Math.floor(Date.now() / 1000);
      if (typeof claims.exp !== 'number') throw invalidToken('The web identity token has no exp claim');
      if (now - SKEW_SECONDS >= claims.exp) {
        throw new StsError(
          'ExpiredTokenException',
          `Token expired: current date/time ${now} must be before the expiration date/time ${claims.exp}`,
        );
      }
      if (typeof claims.iat !== 'number') throw invalidToken('The web identity token has no iat claim');
      if (typeof claims.nbf === 'number' && claims.nbf > now + SKEW_SECONDS)
        throw invalidToken('The web identity token is not yet valid (nbf)');

      // The trust policy: StringEquals on <provider>:aud, StringLike on <provider>:sub.
      const audiences = typeof claims.aud === 'string' ? [claims.aud] : Array.isArray(claims.aud) ? claims.aud : [];
      const subject = claims.sub;
      if (!audiences.includes(role.audience) || typeof subject !== 'string' || !like(role.subjectLike, subject)) throw notAuthorized();

      // Tags in the token mean the role must also allow sts:TagSession for this provider.
      if (claims[TAGS_CLAIM] !== undefined && !role.allowTagSession) throw notAuthorized();
      const { tags, transitiveTagKeys, packedPercent } = sessionTags(claims[TAGS_CLAIM]);
      // IAM User Guide, "Using source identity with AssumeRoleWithWebIdentity": STS reads the
      // source identity from this claim; setting it needs sts:SetSourceIdentity in the trust policy,
      // and a policy condition on sts:SourceIdentity must hold. Format: STS API reference (2-64 of [\w+=,.@-]).
      const sourceIdentity = claims[SOURCE_IDENTITY_CLAIM];
      if (sourceIdentity !== undefined) {
        if (typeof sourceIdentity !== 'string' || !/^[\w+=,.@-]{2,64}$/.test(sourceIdentity))
          throw invalidToken('Invalid source identity in the web identity token');
        if (!role.allowSetSourceIdentity) throw notAuthorized();
      }
      if (role.sourceIdentityLike !== undefined && (typeof sourceIdentity !== 'string' || !like(role.sourceIdentityLike, sourceIdentity)))
        throw notAuthorized();
      if (duration > (role.maxSessionDuration ?? 3600))
        throw validation('The requested DurationSeconds exceeds the MaxSessionDuration set for this role.', false);

      sessions.push({
        roleArn,
        sessionName,
        subject,
        audience: role.audience,
        tags,
        transitiveTagKeys,
        durationSeconds: duration,
        ...(typeof sourceIdentity === 'string' ? { sourceIdentity } : {}),
      });
      const roleName = roleArn.slice(roleArn.lastIndexOf('/') + 1);
      const provider = iss.replace(/^https?:\/\//, '').replace(/\/+$/, '');
      return [
        `<AssumeRoleWithWebIdentityResponse xmlns="${NS}">`,
        '<AssumeRoleWithWebIdentityResult>',
        '<Credentials>',
        `<AccessKeyId>${accessKeyId()}</AccessKeyId>`,
        `<SecretAccessKey>${randomBytes(30).toString('base64')}</SecretAccessKey>`,
        `<SessionToken>${randomBytes(300).toString('base64')}</SessionToken>`,
        `<Expiration>${new Date((now + duration) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z')}</Expiration>`,
        '</Credentials>',
        `<SubjectFromWebIdentityToken>${xml(subject)}</SubjectFromWebIdentityToken>`,
        '<AssumedRoleUser>',
        `<Arn>arn:aws:sts::${ACCOUNT}:assumed-role/${xml(roleName)}/${xml(sessionName)}</Arn>`,
        `<AssumedRoleId>${role.roleId}:${xml(sessionName)}</AssumedRoleId>`,
        '</AssumedRoleUser>',
        ...(packedPercent === undefined ? [] : [`<PackedPolicySize>${packedPercent}</PackedPolicySize>`]),
        // Real STS names the IAM OIDC provider resource: arn:aws:iam::<account>:oidc-provider/<host/path>.
        `<Provider>arn:aws:iam::${ACCOUNT}:oidc-provider/${xml(provider)}</Provider>`,
        `<Audience>${xml(role.audience)}</Audience>`,
        ...(typeof sourceIdentity === 'string' ? [`<SourceIdentity>${xml(sourceIdentity)}</SourceIdentity>`] : []),
        '</AssumeRoleWithWebIdentityResult>',
        `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata>`,
        '</AssumeRoleWithWebIdentityResponse>',
      ].join('');
    },
  };

  const server = await listen(async (req, res) => {
    const reply = (status: number, body: string) => {
      res.writeHead(status, { 'Content-Type': 'text/xml', 'x-amzn-RequestId': randomUUID() });
      res.end(body);
    };
    let action = '';
    try {
      const raw = await readBody(req);
      const params = new URLSearchParams(raw);
      action = params.get('Action') ?? '';
      calls[action] = (calls[action] ?? 0) + 1;
      if (req.method !== 'POST' || !String(req.headers['content-type']).startsWith('application/x-www-form-urlencoded')) {
        throw new StsError('InvalidAction', 'expected an AWS Query POST with a form-encoded body');
      }
      if (params.get('Version') !== '2011-06-15')
        throw new StsError(
          'InvalidAction',
          `Could not find operation ${action} for version ${params.get('Version') ?? 'NO_VERSION_SPECIFIED'}`,
        );
      const handler = actions[action];
      if (!handler) throw new StsError('InvalidAction', `Could not find operation ${action} for version 2011-06-15`);
      const failure = failures.find((f) => f.action === action || f.action === '*');
      if (failure) {
        if (--failure.count <= 0) failures.splice(failures.indexOf(failure), 1);
        throw new StsError(failure.code, 'injected failure', failure.status);
      }
      reply(200, await handler(params, req.headers.authorization));
    } catch (e) {
      const err = e instanceof StsError ? e : new StsError('InternalFailure', 'An internal error occurred.');
      reply(
        err.status,
        `<ErrorResponse xmlns="${NS}"><Error><Type>${err.status >= 500 ? 'Receiver' : 'Sender'}</Type>` +
          `<Code>${xml(err.code)}</Code><Message>${xml(err.message)}</Message></Error>` +
          `<RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
      );
    }
  });

  return {
    url: server.url,
    calls,
    sessions,
    assumed,
    addRole(role) {
      if (!/^arn:aws:iam::\d{12}:role\/[\w+=,.@/-]{1,64}$/.test(role.roleArn)) throw new Error(`not a role ARN: ${role.roleArn}`);
      // A stable unique id per role: `AROA` + 17 characters, like IAM's.
      const roleId = `AROA${base32(createHash('sha256').update(role.roleArn).digest()).slice(0, 17)}`;
      roles.set(role.roleArn, { ...role, roleId });
    },
    addAssumableRole(roleArn, options = {}) {
      if (!/^arn:aws:iam::\d{12}:role\/[\w+=,.@/-]{1,64}$/.test(roleArn)) throw new Error(`not a role ARN: ${roleArn}`);
      assumable.set(roleArn, {
        roleId: `AROA${base32(createHash('sha256').update(roleArn).digest()).slice(0, 17)}`,
        externalId: options.externalId,
      });
    },
    failNext: (action, code, count = 1, status) => failures.push({ action, code, count, status }),
    close: server.close,
  };
}

/** Fetches `<iss>/.well-known/openid-configuration`, then its `jwks_uri`, as STS does (no caching). */
async function fetchJwks(iss: string): Promise<JSONWebKeySet> {
  const unreachable = () =>
    new StsError(
      'IDPCommunicationError',
      "Couldn't retrieve verification key from your identity provider, please reference " +
        'AssumeRoleWithWebIdentity documentation for requirements',
    );
  const get = async (url: string): Promise<Record<string, unknown>> => {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(5000), redirect: 'error' });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const body = (await res.json()) as unknown;
      if (typeof body !== 'object' || body === null) throw new Error('not a JSON object');
      return body as Record<string, unknown>;
    } catch {
      throw unreachable();
    }
  };
  const discovery = await get(`${iss.replace(/\/+$/, '')}/.well-known/openid-configuration`);
  if (typeof discovery.jwks_uri !== 'string') throw unreachable();
  const jwks = await get(discovery.jwks_uri);
  if (!Array.isArray(jwks.keys)) throw unreachable();
  return jwks as unknown as JSONWebKeySet;
}

/**
 * The `https://aws.amazon.com/tags` claim: `{ principal_tags: { key: [value] }, transitive_tag_keys?: [key] }`.
 * A malformed claim, or one beyond the documented limits (50 tags, keys of 1–128 and values of
 * 0–256 characters from the allowed set, no `aws:` prefix, keys unique regardless of case), makes
 * the token invalid; tags within those limits can still exceed the packed size (PackedPolicyTooLarge).
 */
function sessionTags(claim: unknown): { tags: Record<string, string>; transitiveTagKeys: string[]; packedPercent?: number } {
  if (claim === undefined) return { tags: {}, transitiveTagKeys: [] };
  const bad = (why: string) => invalidToken(`Invalid session tags in the web identity token: ${why}`);
  if (typeof claim !== 'object' || claim === null || Array.isArray(claim)) throw bad(`${TAGS_CLAIM} must be an object`);
  const { principal_tags: principal, transitive_tag_keys: transitive } = claim as Record<string, unknown>;
  if (typeof principal !== 'object' || principal === null || Array.isArray(principal)) throw bad('principal_tags must be an object');
  const tags: Record<string, string> = {};
  const seen = new Set<string>();
  for (const [key, values] of Object.entries(principal)) {
    if (!Array.isArray(values) || values.length !== 1 || typeof values[0] !== 'string')
      throw bad(`the value of ${key} must be an array of one string`);
    const value = values[0];
    if (key.length < 1 || key.length > 128 || !TAG_TEXT.test(key))
      throw bad(`tag key ${key} must be 1-128 characters of letters, numbers, spaces and _.:/=+-@`);
    if (value.length > 256 || !TAG_TEXT.test(value))
      throw bad(`the value of ${key} must be at most 256 characters of letters, numbers, spaces and _.:/=+-@`);
    if (key.toLowerCase().startsWith('aws:')) throw bad(`tag key ${key} uses the reserved prefix aws:`);
    if (seen.has(key.toLowerCase())) throw bad('Duplicate tag keys found. Please note that Tag keys are case insensitive.');
    seen.add(key.toLowerCase());
    tags[key] = value;
  }
  if (seen.size > 50) throw bad(`${seen.size} session tags exceed the limit of 50`);
  let transitiveTagKeys: string[] = [];
  if (transitive !== undefined) {
    if (!Array.isArray(transitive) || !transitive.every((k): k is string => typeof k === 'string'))
      throw bad('transitive_tag_keys must be an array of strings');
    const missing = transitive.filter((k) => !(k in tags));
    if (missing.length > 0) throw bad(`transitive_tag_keys ${missing.join(', ')} are not principal_tags keys`);
    transitiveTagKeys = transitive;
  }
  const packed = Object.entries(tags).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
  const packedPercent = Math.ceil((packed / PACKED_TAG_BUDGET) * 100);
  if (packedPercent > 100)
    throw new StsError('PackedPolicyTooLarge', `Packed size of session tags consumes ${packedPercent}% of allotted space.`);
  return { tags, transitiveTagKeys, packedPercent };
}

function required(params: URLSearchParams, name: string, member: string, min: number, max: number): string {
  const value = params.get(name);
  if (value === null) throw validation(`Value null at '${member}' failed to satisfy constraint: Member must not be null`);
  if (value.length < min)
    throw validation(`Value at '${member}' failed to satisfy constraint: Member must have length greater than or equal to ${min}`);
  if (value.length > max)
    throw validation(`Value at '${member}' failed to satisfy constraint: Member must have length less than or equal to ${max}`);
  return value;
}

function validation(message: string, constraint = true): StsError {
  return new StsError('ValidationError', constraint ? `1 validation error detected: ${message}` : message);
}

function claimsOf(json: string): Record<string, unknown> {
  try {
    const value = JSON.parse(json) as unknown;
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw invalidToken("Couldn't parse the web identity token's claims");
}

/** IAM StringLike: `*` matches any run of characters, `?` exactly one; case-sensitive. */
function like(pattern: string, value: string): boolean {
  const source = [...pattern].map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.|+()[\]{}]/g, '\\$&'))).join('');
  return new RegExp(`^${source}$`, 's').test(value);
}

/** `ASIA` + 16 characters of [A-Z2-7]: the shape of a temporary access key id. */
function accessKeyId(): string {
  return `ASIA${base32(randomBytes(16))}`;
}

function base32(bytes: Buffer): string {
  return [...bytes].map((b) => 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'[b % 32]).join('');
}

function xml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

import { choice, integer, readEnv, text } from './env-schema.ts';
import { ConfigError, PolicyInvalid } from './errors.ts';
import { checkIssuerUrl } from './net/issuer-url.ts';

/** Algorithms fedbroker signs with. RS256 is what every cloud IAM accepts; ES256 is smaller. */
const SIGNING_ALGS = ['RS256', 'ES256'] as const;
export type SigningAlg = (typeof SIGNING_ALGS)[number];

/**
 * Issuer of Cognito identity pool tokens in the aws partition (Amazon Cognito developer guide,
 * "Identity pools (federated identities) authentication flow"); other partitions set
 * FEDBROKER_COGNITO_ISSUER.
 */
export const COGNITO_ISSUER_DEFAULT = 'https://cognito-identity.amazonaws.com';

/** Where the audit lines' copy for the audit API comes from (FEDBROKER_AUDIT_TABLE_WRITE, see lib/config-docs.ts). */
export const AUDIT_COPIES = ['subscription', 'inline', 'file'] as const;

const seconds = (fallback: number) => integer(fallback, { min: 1 });

/**
 * Every environment variable the configuration reads. Exported for docs/configuration.md
 * (scripts/configuration-doc.ts, lib/config-docs.ts: the meaning of each variable lives there).
 */
export const envSchema = {
  FEDBROKER_ISSUER: text(),
  /** Set by serverless.yml from the HTTP API's own endpoint when no custom issuer is configured. */
  FEDBROKER_API_ENDPOINT: text(),
  FEDBROKER_TABLE: text({ required: true, pattern: /^[A-Za-z0-9_.-]{3,255}$/, message: 'must be a DynamoDB table name' }),
  FEDBROKER_SIGNER: choice(['kms', 'kms-data-key', 'local'], 'kms'),
  FEDBROKER_KMS_KEY_ID: text(),
  FEDBROKER_KMS_WRAPPING_KEY_ID: text(),
  FEDBROKER_KEY_ROTATION_DAYS: seconds(30),
  FEDBROKER_KEY_PREPUBLISH_SECONDS: seconds(86400),
  FEDBROKER_KEY_RETIREMENT_SECONDS: seconds(172800),
  FEDBROKER_KEY_DELETION_WINDOW_DAYS: integer(30, { min: 7, max: 30 }),
  FEDBROKER_SIGNING_ALG: choice(SIGNING_ALGS, 'RS256'),
  FEDBROKER_LOCAL: choice(['true', 'false'], 'false'),
  FEDBROKER_DATA_DIR: text({ default: '.fedbroker' }),
  /**
   * Value of the `fedbroker:managed` tag on keys rotation creates: `<service>-<stage>` deployed
   * (serverless.yml), so one stage's IAM conditions never match another stage's keys.
   */
  FEDBROKER_MANAGED_KEY_TAG: text({ default: 'fedbroker-local', pattern: /^[\w.:/=+@-]{1,256}$/, message: 'must be a KMS tag value' }),
  /** Set by the Lambda runtime (Lambda developer guide, "Defined runtime environment variables"). */
  AWS_LAMBDA_FUNCTION_NAME: text(),
  AWS_EXECUTION_ENV: text(),
  FEDBROKER_ID_TOKEN_TTL: seconds(900),
  FEDBROKER_ID_TOKEN_MAX_TTL: seconds(3600),
  FEDBROKER_ACCESS_TOKEN_TTL: seconds(900),
  FEDBROKER_ACCESS_TOKEN_MAX_TTL: seconds(3600),
  FEDBROKER_KEY_CACHE_SECONDS: seconds(60),
  FEDBROKER_JWKS_MAX_AGE: seconds(300),
  FEDBROKER_DISCOVERY_MAX_AGE: seconds(3600),
  FEDBROKER_TENANT_CACHE_SECONDS: seconds(15),
  FEDBROKER_AUDIT_RETENTION_DAYS: integer(90, { min: 1, max: 3650 }),
  FEDBROKER_AUDIT_TABLE_WRITE: choice(AUDIT_COPIES, 'subscription'),
  FEDBROKER_SIGN_OFFLOAD: choice(['true', 'false'], 'false'),
  FEDBROKER_UPSTREAM_MAX_TOKEN_AGE: seconds(86400),
  FEDBROKER_UPSTREAM_MAX_TOKEN_LIFETIME: seconds(86400),
  FEDBROKER_UPSTREAM_TIMEOUT_MS: integer(3000, { min: 100, max: 10000 }),
  FEDBROKER_COGNITO_ISSUER: text({ default: COGNITO_ISSUER_DEFAULT }),
  FEDBROKER_COGNITO_DEVELOPER_PROVIDER: text({
    default: 'fedbroker',
    pattern: /^[\w._-]{1,128}$/,
    message: 'must be a Cognito developer provider name',
  }),
};

export interface Config {
  /** Exactly the `iss` of every token and the base of every published URL (no trailing slash). */
  issuer: string;
  tableName: string;
  /** True only for `npm start`: allows an http://localhost issuer and the file signer. */
  local: boolean;
  signer:
    | { kind: 'kms'; keyId: string; alg: SigningAlg }
    | { kind: 'kms-data-key'; wrappingKeyId: string; alg: SigningAlg; offload: boolean }
    | { kind: 'local'; dataDir: string; alg: SigningAlg; offload: boolean };
  /**
   * Key lifecycle: rotation period, pre-publication and retirement windows, KMS deletion window,
   * and the `fedbroker:managed` tag value that marks this deployment's rotated keys.
   */
  keys: { rotationSeconds: number; prePublishSeconds: number; retirementSeconds: number; deletionWindowDays: number; managedTag: string };
  tokens: { idTokenTtl: number; idTokenMaxTtl: number; accessTokenTtl: number; accessTokenMaxTtl: number };
  /** How long a warm container trusts its copy of the key registry. */
  keyCacheSeconds: number;
  jwksMaxAge: number;
  discoveryMaxAge: number;
  /** Bound on how long a warm container keeps using a tenant's relationships after a change. */
  tenantCacheSeconds: number;
  /** How long audit records stay in the table (DynamoDB TTL); the logs keep their own retention. */
  auditRetentionDays: number;
  /**
   * Who copies audit lines into the table: `subscription` (deployed: the CloudWatch Logs
   * subscription and the `auditIngest` function), `inline` (tests: this process, in the
   * background, to the table) or `file` (the local run: this process, in the background, to
   * JSON-lines files under `dataDir`; the audit API reads them).
   */
  auditTableWrite: (typeof AUDIT_COPIES)[number];
  /** The local run's data folder (FEDBROKER_DATA_DIR): key files, dynalite, the `file` audit copy. */
  dataDir: string;
  /**
   * External subject tokens: oldest accepted `iat`, farthest accepted `exp` (both seconds from
   * now), and the discovery/JWKS fetch timeout.
   */
  upstream: { maxTokenAgeSeconds: number; maxTokenLifetimeSeconds: number; timeoutMs: number };
  /** Cognito identity pools, both directions: the token issuer and fedbroker's developer provider name. */
  cognito: { issuer: string; developerProvider: string };
}

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * True inside a Lambda execution environment: the runtime always sets AWS_LAMBDA_FUNCTION_NAME
 * and an AWS_EXECUTION_ENV of `AWS_Lambda_<runtime>` (Lambda developer guide, "Defined runtime
 * environment variables"). The local HTTP API stand-in sets neither.
 */
function insideLambda(e: { AWS_LAMBDA_FUNCTION_NAME?: string | undefined; AWS_EXECUTION_ENV?: string | undefined }): boolean {
  return Boolean(e.AWS_LAMBDA_FUNCTION_NAME) || (e.AWS_EXECUTION_ENV ?? '').startsWith('AWS_Lambda');
}

function checkIssuer(raw: string | undefined, local: boolean, issues: string[]): string {
  if (!raw) {
    issues.push('FEDBROKER_ISSUER (or FEDBROKER_API_ENDPOINT) is required');
    return '';
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    issues.push('FEDBROKER_ISSUER must be an absolute URL');
    return '';
  }
  // OIDC Discovery 1.0 §3 and AWS IAM: https, no query or fragment; http only for a local run.
  const httpAllowed = local && url.protocol === 'http:' && LOCAL_HOSTS.has(url.hostname);
  if (url.protocol !== 'https:' && !httpAllowed) {
    issues.push('FEDBROKER_ISSUER must use https (http://localhost only with FEDBROKER_LOCAL=true)');
  }
  if (url.search || url.hash || raw.includes('#') || raw.includes('?')) issues.push('FEDBROKER_ISSUER must not have a query or fragment');
  if (url.username || url.password) issues.push('FEDBROKER_ISSUER must not carry credentials');
  return raw.replace(/\/+$/, '');
}

/**
 * Parses the environment once into a typed, validated configuration.
 * Throws {@link ConfigError} listing every problem at once.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const { values: e, issues: invalid } = readEnv(envSchema, env);
  if (!e) throw new ConfigError(invalid);
  const issues: string[] = [];
  const local = e.FEDBROKER_LOCAL === 'true';
  // Fail closed: local mode (http issuer, key file on disk) is never honoured in a deployed
  // function, whatever environment the deployer's shell or a later console edit gave it.
  if (insideLambda(e) && (local || e.FEDBROKER_SIGNER === 'local')) {
    throw new ConfigError(['FEDBROKER_LOCAL=true and FEDBROKER_SIGNER=local are refused inside AWS Lambda']);
  }
  // The in-process audit copies (`inline`, `file`) are the local run's stand-ins for the log
  // subscription: with the lines silenced they admit grants whose only record is a copy pending
  // in memory, which Lambda freezes after the response and may discard (threat model I5); `file`
  // would also write to the function's scratch disk. Deployed, the subscription copies.
  if (insideLambda(e) && e.FEDBROKER_AUDIT_TABLE_WRITE !== 'subscription') {
    throw new ConfigError([`FEDBROKER_AUDIT_TABLE_WRITE=${e.FEDBROKER_AUDIT_TABLE_WRITE} is refused inside AWS Lambda`]);
  }
  const issuer = checkIssuer(e.FEDBROKER_ISSUER || e.FEDBROKER_API_ENDPOINT, local, issues);

  let signer: Config['signer'];
  if (e.FEDBROKER_SIGNER === 'local') {
    if (!local) issues.push('FEDBROKER_SIGNER=local is for the local run only (set FEDBROKER_LOCAL=true)');
    signer = { kind: 'local', dataDir: e.FEDBROKER_DATA_DIR, alg: e.FEDBROKER_SIGNING_ALG, offload: e.FEDBROKER_SIGN_OFFLOAD === 'true' };
  } else if (e.FEDBROKER_SIGNER === 'kms-data-key') {
    if (!e.FEDBROKER_KMS_WRAPPING_KEY_ID) issues.push('FEDBROKER_KMS_WRAPPING_KEY_ID is required with FEDBROKER_SIGNER=kms-data-key');
    signer = {
      kind: 'kms-data-key',
      wrappingKeyId: e.FEDBROKER_KMS_WRAPPING_KEY_ID ?? '',
      alg: e.FEDBROKER_SIGNING_ALG,
      offload: e.FEDBROKER_SIGN_OFFLOAD === 'true',
    };
  } else {
    if (!e.FEDBROKER_KMS_KEY_ID) issues.push('FEDBROKER_KMS_KEY_ID is required with FEDBROKER_SIGNER=kms');
    signer = { kind: 'kms', keyId: e.FEDBROKER_KMS_KEY_ID ?? '', alg: e.FEDBROKER_SIGNING_ALG };
  }
  // A retired key must stay published until every token it signed has expired and every
  // verifier's cached JWKS has been refreshed; a next key must be published for at least one
  // JWKS cache lifetime before it signs.
  const longestToken = Math.max(e.FEDBROKER_ID_TOKEN_MAX_TTL, e.FEDBROKER_ACCESS_TOKEN_MAX_TTL);
  if (longestToken + e.FEDBROKER_JWKS_MAX_AGE > e.FEDBROKER_KEY_RETIREMENT_SECONDS) {
    issues.push('FEDBROKER_KEY_RETIREMENT_SECONDS must cover the longest token lifetime plus FEDBROKER_JWKS_MAX_AGE');
  }
  if (e.FEDBROKER_KEY_PREPUBLISH_SECONDS < e.FEDBROKER_JWKS_MAX_AGE) {
    issues.push('FEDBROKER_KEY_PREPUBLISH_SECONDS must be at least FEDBROKER_JWKS_MAX_AGE');
  }
  if (e.FEDBROKER_ID_TOKEN_TTL > e.FEDBROKER_ID_TOKEN_MAX_TTL) issues.push('FEDBROKER_ID_TOKEN_TTL exceeds FEDBROKER_ID_TOKEN_MAX_TTL');
  if (e.FEDBROKER_ACCESS_TOKEN_TTL > e.FEDBROKER_ACCESS_TOKEN_MAX_TTL) {
    issues.push('FEDBROKER_ACCESS_TOKEN_TTL exceeds FEDBROKER_ACCESS_TOKEN_MAX_TTL');
  }
  // STS accepts web identity tokens for at most 12 h sessions; longer tokens only widen exposure.
  if (e.FEDBROKER_ID_TOKEN_MAX_TTL > 43200) issues.push('FEDBROKER_ID_TOKEN_MAX_TTL must be at most 43200 (12 h)');
  checkCognitoIssuer(e.FEDBROKER_COGNITO_ISSUER, local, issues);
  if (issues.length) throw new ConfigError(issues);

  return {
    issuer,
    tableName: e.FEDBROKER_TABLE,
    local,
    signer,
    tokens: {
      idTokenTtl: e.FEDBROKER_ID_TOKEN_TTL,
      idTokenMaxTtl: e.FEDBROKER_ID_TOKEN_MAX_TTL,
      accessTokenTtl: e.FEDBROKER_ACCESS_TOKEN_TTL,
      accessTokenMaxTtl: e.FEDBROKER_ACCESS_TOKEN_MAX_TTL,
    },
    keyCacheSeconds: e.FEDBROKER_KEY_CACHE_SECONDS,
    keys: {
      rotationSeconds: e.FEDBROKER_KEY_ROTATION_DAYS * 86400,
      prePublishSeconds: e.FEDBROKER_KEY_PREPUBLISH_SECONDS,
      retirementSeconds: e.FEDBROKER_KEY_RETIREMENT_SECONDS,
      deletionWindowDays: e.FEDBROKER_KEY_DELETION_WINDOW_DAYS,
      managedTag: e.FEDBROKER_MANAGED_KEY_TAG,
    },
    jwksMaxAge: e.FEDBROKER_JWKS_MAX_AGE,
    discoveryMaxAge: e.FEDBROKER_DISCOVERY_MAX_AGE,
    tenantCacheSeconds: e.FEDBROKER_TENANT_CACHE_SECONDS,
    auditRetentionDays: e.FEDBROKER_AUDIT_RETENTION_DAYS,
    auditTableWrite: e.FEDBROKER_AUDIT_TABLE_WRITE,
    dataDir: e.FEDBROKER_DATA_DIR,
    upstream: {
      maxTokenAgeSeconds: e.FEDBROKER_UPSTREAM_MAX_TOKEN_AGE,
      maxTokenLifetimeSeconds: e.FEDBROKER_UPSTREAM_MAX_TOKEN_LIFETIME,
      timeoutMs: e.FEDBROKER_UPSTREAM_TIMEOUT_MS,
    },
    cognito: cognitoConfig(e),
  };
}

function checkCognitoIssuer(raw: string, local: boolean, issues: string[]): void {
  try {
    checkIssuerUrl(raw, { local });
  } catch (err) {
    if (!(err instanceof PolicyInvalid)) throw err;
    issues.push(...err.issues.map((i) => `FEDBROKER_COGNITO_ISSUER: ${i}`));
  }
}

function cognitoConfig(e: { FEDBROKER_COGNITO_ISSUER: string; FEDBROKER_COGNITO_DEVELOPER_PROVIDER: string }): Config['cognito'] {
  return { issuer: e.FEDBROKER_COGNITO_ISSUER.replace(/\/+$/, ''), developerProvider: e.FEDBROKER_COGNITO_DEVELOPER_PROVIDER };
}

/** What operator commands that write tenant documents and their audit records read. */
export type TenantAdminConfig = Pick<Config, 'tableName' | 'local' | 'cognito' | 'auditRetentionDays' | 'auditTableWrite' | 'dataDir'>;

const tenantAdminEnvSchema = {
  FEDBROKER_TABLE: envSchema.FEDBROKER_TABLE,
  FEDBROKER_LOCAL: envSchema.FEDBROKER_LOCAL,
  FEDBROKER_COGNITO_ISSUER: envSchema.FEDBROKER_COGNITO_ISSUER,
  FEDBROKER_COGNITO_DEVELOPER_PROVIDER: envSchema.FEDBROKER_COGNITO_DEVELOPER_PROVIDER,
  FEDBROKER_AUDIT_RETENTION_DAYS: envSchema.FEDBROKER_AUDIT_RETENTION_DAYS,
  FEDBROKER_AUDIT_TABLE_WRITE: envSchema.FEDBROKER_AUDIT_TABLE_WRITE,
  FEDBROKER_DATA_DIR: envSchema.FEDBROKER_DATA_DIR,
};

/**
 * {@link loadConfig} for the operator's `fedbroker admin` tenant commands: the subset of the same
 * schema they need, with the same defaults and checks, so the CLI judges documents as the deployed
 * API does without asking for the signer settings it never uses. Throws {@link ConfigError}.
 */
export function loadTenantAdminConfig(env: Record<string, string | undefined> = process.env): TenantAdminConfig {
  const { values: e, issues: invalid } = readEnv(tenantAdminEnvSchema, env);
  if (!e) throw new ConfigError(invalid);
  const local = e.FEDBROKER_LOCAL === 'true';
  const issues: string[] = [];
  checkCognitoIssuer(e.FEDBROKER_COGNITO_ISSUER, local, issues);
  if (issues.length) throw new ConfigError(issues);
  return {
    tableName: e.FEDBROKER_TABLE,
    local,
    cognito: cognitoConfig(e),
    auditRetentionDays: e.FEDBROKER_AUDIT_RETENTION_DAYS,
    auditTableWrite: e.FEDBROKER_AUDIT_TABLE_WRITE,
    dataDir: e.FEDBROKER_DATA_DIR,
  };
}

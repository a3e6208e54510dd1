import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config.ts';
import { ConfigError } from '../../lib/errors.ts';

const base = { FEDBROKER_TABLE: 'fedbroker-dev', FEDBROKER_ISSUER: 'https://id.example.com', FEDBROKER_KMS_KEY_ID: 'alias/fedbroker' };

function issues(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as ConfigError).code).toBe('ERR_CONFIG');
    return [...(e as ConfigError).issues];
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('parses a complete KMS configuration with defaults', () => {
    const config = loadConfig(base);
    expect(config).toMatchObject({
      issuer: 'https://id.example.com',
      tableName: 'fedbroker-dev',
      local: false,
      signer: { kind: 'kms', keyId: 'alias/fedbroker', alg: 'RS256' },
      tokens: { idTokenTtl: 900, idTokenMaxTtl: 3600 },
      upstream: { maxTokenAgeSeconds: 86400, maxTokenLifetimeSeconds: 86400, timeoutMs: 3000 },
    });
  });

  it('reads the external token bounds, each on its own', () => {
    const config = loadConfig({ ...base, FEDBROKER_UPSTREAM_MAX_TOKEN_AGE: '600', FEDBROKER_UPSTREAM_MAX_TOKEN_LIFETIME: '3600' });
    expect(config.upstream).toMatchObject({ maxTokenAgeSeconds: 600, maxTokenLifetimeSeconds: 3600 });
  });

  it('falls back to the API endpoint when no custom issuer is set', () => {
    expect(
      loadConfig({ ...base, FEDBROKER_ISSUER: '', FEDBROKER_API_ENDPOINT: 'https://abc.execute-api.us-east-1.amazonaws.com' }).issuer,
    ).toBe('https://abc.execute-api.us-east-1.amazonaws.com');
  });

  it('drops a trailing slash so iss and published URLs agree', () => {
    expect(loadConfig({ ...base, FEDBROKER_ISSUER: 'https://id.example.com/' }).issuer).toBe('https://id.example.com');
  });

  it('allows http://localhost and the file signer in local mode', () => {
    const config = loadConfig({ ...base, FEDBROKER_ISSUER: 'http://localhost:8787', FEDBROKER_LOCAL: 'true', FEDBROKER_SIGNER: 'local' });
    expect(config.signer.kind).toBe('local');
  });

  it.each([
    ['a missing issuer', { FEDBROKER_ISSUER: '' }, /FEDBROKER_ISSUER .* is required/],
    ['a relative issuer', { FEDBROKER_ISSUER: 'id.example.com' }, /absolute URL/],
    ['an http issuer outside local mode', { FEDBROKER_ISSUER: 'http://localhost:8787' }, /must use https/],
    [
      'an http issuer on a public host in local mode',
      { FEDBROKER_ISSUER: 'http://example.com', FEDBROKER_LOCAL: 'true' },
      /must use https/,
    ],
    ['an issuer with a query', { FEDBROKER_ISSUER: 'https://id.example.com/?a=1' }, /query or fragment/],
    ['an issuer with a fragment', { FEDBROKER_ISSUER: 'https://id.example.com/#x' }, /query or fragment/],
    ['an issuer with credentials', { FEDBROKER_ISSUER: 'https://u:p@id.example.com' }, /credentials/],
    ['the file signer outside local mode', { FEDBROKER_SIGNER: 'local' }, /local run only/],
    ['a KMS signer without a key', { FEDBROKER_KMS_KEY_ID: '' }, /FEDBROKER_KMS_KEY_ID is required/],
    ['an unknown signer', { FEDBROKER_SIGNER: 'hsm' }, /FEDBROKER_SIGNER/],
    ['an unsupported algorithm', { FEDBROKER_SIGNING_ALG: 'HS256' }, /FEDBROKER_SIGNING_ALG/],
    ['a bad table name', { FEDBROKER_TABLE: 'a b' }, /FEDBROKER_TABLE/],
    ['a non-numeric lifetime', { FEDBROKER_ID_TOKEN_TTL: 'soon' }, /FEDBROKER_ID_TOKEN_TTL/],
    ['a negative lifetime', { FEDBROKER_ACCESS_TOKEN_TTL: '-5' }, /FEDBROKER_ACCESS_TOKEN_TTL/],
    ['a default lifetime above its maximum', { FEDBROKER_ID_TOKEN_TTL: '7200' }, /exceeds FEDBROKER_ID_TOKEN_MAX_TTL/],
    ['an ID token maximum above 12 h', { FEDBROKER_ID_TOKEN_MAX_TTL: '50000' }, /at most 43200/],
    ['an unknown audit table writer', { FEDBROKER_AUDIT_TABLE_WRITE: 'sometimes' }, /FEDBROKER_AUDIT_TABLE_WRITE/],
    ['a signing offload that is not true or false', { FEDBROKER_SIGN_OFFLOAD: 'yes' }, /FEDBROKER_SIGN_OFFLOAD/],
    // No "0 means unlimited": an external token's exp is always capped.
    ['an external token lifetime cap of zero', { FEDBROKER_UPSTREAM_MAX_TOKEN_LIFETIME: '0' }, /FEDBROKER_UPSTREAM_MAX_TOKEN_LIFETIME/],
    [
      'a non-numeric external token lifetime cap',
      { FEDBROKER_UPSTREAM_MAX_TOKEN_LIFETIME: 'forever' },
      /FEDBROKER_UPSTREAM_MAX_TOKEN_LIFETIME/,
    ],
  ])('refuses %s', (_name, change, message) => {
    expect(issues({ ...base, ...change }).join('\n')).toMatch(message);
  });

  it("tags rotated keys with the deployment's own value, a local one by default", () => {
    expect(loadConfig(base).keys.managedTag).toBe('fedbroker-local');
    expect(loadConfig({ ...base, FEDBROKER_MANAGED_KEY_TAG: 'fedbroker-prod' }).keys.managedTag).toBe('fedbroker-prod');
    expect(issues({ ...base, FEDBROKER_MANAGED_KEY_TAG: 'two words' }).join('\n')).toMatch(
      /FEDBROKER_MANAGED_KEY_TAG: must be a KMS tag value/,
    );
  });

  describe('inside AWS Lambda', () => {
    const localRun = { ...base, FEDBROKER_ISSUER: 'http://localhost:8787', FEDBROKER_LOCAL: 'true', FEDBROKER_SIGNER: 'local' };
    const lambda = { AWS_LAMBDA_FUNCTION_NAME: 'fedbroker-prod-token', AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x' };
    const refusal = ['FEDBROKER_LOCAL=true and FEDBROKER_SIGNER=local are refused inside AWS Lambda'];

    it.each([
      ['FEDBROKER_LOCAL=true with the file signer', localRun, lambda],
      ['FEDBROKER_LOCAL=true alone', { ...base, FEDBROKER_LOCAL: 'true' }, lambda],
      ['the file signer alone', { ...base, FEDBROKER_SIGNER: 'local' }, lambda],
      ['local mode when only the function name shows Lambda', localRun, { AWS_LAMBDA_FUNCTION_NAME: 'fedbroker-prod-token' }],
      ['local mode when only the execution environment shows Lambda', localRun, { AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x' }],
    ])('refuses %s', (_name, env, runtimeEnv) => {
      expect(issues({ ...env, ...runtimeEnv })).toEqual(refusal);
    });

    it.each(['inline', 'file'])('refuses the in-process audit copy FEDBROKER_AUDIT_TABLE_WRITE=%s', (copy) => {
      expect(issues({ ...base, ...lambda, FEDBROKER_AUDIT_TABLE_WRITE: copy })).toEqual([
        `FEDBROKER_AUDIT_TABLE_WRITE=${copy} is refused inside AWS Lambda`,
      ]);
      expect(issues({ ...base, AWS_LAMBDA_FUNCTION_NAME: 'fedbroker-prod-token', FEDBROKER_AUDIT_TABLE_WRITE: copy })).toHaveLength(1);
    });

    it('accepts the KMS signers', () => {
      expect(loadConfig({ ...base, ...lambda }).signer.kind).toBe('kms');
      expect(
        loadConfig({ ...base, ...lambda, FEDBROKER_SIGNER: 'kms-data-key', FEDBROKER_KMS_WRAPPING_KEY_ID: 'alias/wrap' }).signer.kind,
      ).toBe('kms-data-key');
    });

    it('does not take another execution environment for Lambda', () => {
      expect(loadConfig({ ...localRun, AWS_EXECUTION_ENV: 'AWS_ECS_FARGATE' }).local).toBe(true);
    });
  });

  it('copies audit lines to files under the data folder with FEDBROKER_AUDIT_TABLE_WRITE=file (the local run)', () => {
    const config = loadConfig({ ...base, FEDBROKER_AUDIT_TABLE_WRITE: 'file', FEDBROKER_DATA_DIR: '/tmp/run' });
    expect(config).toMatchObject({ auditTableWrite: 'file', dataDir: '/tmp/run' });
    expect(loadConfig(base)).toMatchObject({ auditTableWrite: 'subscription', dataDir: '.fedbroker' });
  });

  it('reports every problem at once', () => {
    expect(issues({ FEDBROKER_TABLE: 'fedbroker', FEDBROKER_ISSUER: 'http://x', FEDBROKER_SIGNER: 'local' })).toHaveLength(2);
  });
});

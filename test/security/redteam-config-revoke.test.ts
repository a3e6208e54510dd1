// Red team: configuration fails closed; revocation bodies are only the two documented shapes.
import { describe, expect, it } from 'vitest';
import { loadConfig, loadTenantAdminConfig } from '../../lib/config.ts';
import { ConfigError, InvalidRequest } from '../../lib/errors.ts';
import { revokeAccessToken, type RevokeDeps } from '../../lib/app/revoke.ts';

const base = {
  FEDBROKER_TABLE: 'fedbroker-test',
  FEDBROKER_ISSUER: 'https://issuer.fedbroker.test',
  FEDBROKER_KMS_KEY_ID: 'arn:aws:kms:us-east-1:111122223333:key/x',
};
const ok = () => loadConfig({ ...base });

describe('config: integers', () => {
  it('accepts a baseline', () => expect(ok().tokens.accessTokenTtl).toBe(900));
  const bad = [
    '1e3',
    '0x10',
    ' 5',
    '5 ',
    '',
    '-0',
    '+5',
    '5.0',
    '5.',
    '.5',
    '٣',
    '３',
    '5\n',
    '\t5',
    '0b11',
    '0o7',
    'Infinity',
    'NaN',
    '1_000',
    '9'.repeat(16),
    '9'.repeat(400),
    'constructor',
    '__proto__',
    'toString',
    '0',
  ];
  for (const v of bad) {
    for (const name of [
      'FEDBROKER_ACCESS_TOKEN_TTL',
      'FEDBROKER_TENANT_CACHE_SECONDS',
      'FEDBROKER_KEY_DELETION_WINDOW_DAYS',
      'FEDBROKER_UPSTREAM_TIMEOUT_MS',
    ]) {
      it(`refuses ${name}=${JSON.stringify(v)}`, () => {
        let err: unknown;
        try {
          loadConfig({ ...base, [name]: v });
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(ConfigError);
        expect(String((err as ConfigError).message) + JSON.stringify(err)).toContain(name);
      });
    }
  }
  it('leading zeros read as decimal, not octal', () => {
    expect(loadConfig({ ...base, FEDBROKER_ACCESS_TOKEN_TTL: '0010' }).tokens.accessTokenTtl).toBe(10);
  });
  it('bounds hold (deletion window 7..30, timeout 100..10000, retention 1..3650)', () => {
    for (const [n, v] of [
      ['FEDBROKER_KEY_DELETION_WINDOW_DAYS', '6'],
      ['FEDBROKER_KEY_DELETION_WINDOW_DAYS', '31'],
      ['FEDBROKER_UPSTREAM_TIMEOUT_MS', '99'],
      ['FEDBROKER_UPSTREAM_TIMEOUT_MS', '10001'],
      ['FEDBROKER_AUDIT_RETENTION_DAYS', '3651'],
    ] as const)
      expect(() => loadConfig({ ...base, [n]: v })).toThrow(ConfigError);
  });
});

describe('config: choices, prototypes, lambda', () => {
  for (const [n, v] of [
    ['FEDBROKER_SIGNER', 'KMS'],
    ['FEDBROKER_SIGNER', 'kms '],
    ['FEDBROKER_LOCAL', 'TRUE'],
    ['FEDBROKER_LOCAL', '1'],
    ['FEDBROKER_LOCAL', ''],
    ['FEDBROKER_SIGNING_ALG', 'none'],
    ['FEDBROKER_SIGNING_ALG', 'HS256'],
    ['FEDBROKER_AUDIT_TABLE_WRITE', 'toString'],
    ['FEDBROKER_SIGNER', 'constructor'],
    ['FEDBROKER_SIGN_OFFLOAD', 'yes'],
    ['FEDBROKER_TABLE', ''],
    ['FEDBROKER_MANAGED_KEY_TAG', ''],
    ['FEDBROKER_COGNITO_DEVELOPER_PROVIDER', ''],
  ] as const) {
    it(`refuses ${n}=${JSON.stringify(v)}`, () => expect(() => loadConfig({ ...base, [n]: v })).toThrow(ConfigError));
  }
  it('reads a null-prototype env and ignores inherited values', () => {
    const env = Object.assign(Object.create(null), base);
    expect(loadConfig(env).tokens.accessTokenTtl).toBe(900);
    const inh = Object.assign(Object.create({ FEDBROKER_TABLE: 'x' }), {
      FEDBROKER_ISSUER: base.FEDBROKER_ISSUER,
      FEDBROKER_KMS_KEY_ID: 'k',
    });
    expect(() => loadConfig(inh)).toThrow(ConfigError);
  });
  it('reads process.env (an exotic object) as own properties', () => {
    const saved = { ...process.env };
    try {
      Object.assign(process.env, base, { FEDBROKER_ACCESS_TOKEN_TTL: '123' });
      expect(loadConfig().tokens.accessTokenTtl).toBe(123);
      process.env.FEDBROKER_LOCAL = 'true';
      process.env.AWS_LAMBDA_FUNCTION_NAME = 'f';
      expect(() => loadConfig()).toThrow(ConfigError);
    } finally {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
    }
  });
  for (const lambda of [{ AWS_LAMBDA_FUNCTION_NAME: 'f' }, { AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x' }]) {
    it(`refuses local modes inside Lambda ${JSON.stringify(lambda)}`, () => {
      expect(() => loadConfig({ ...base, ...lambda, FEDBROKER_LOCAL: 'true' })).toThrow(ConfigError);
      expect(() => loadConfig({ ...base, ...lambda, FEDBROKER_SIGNER: 'local', FEDBROKER_LOCAL: 'true' })).toThrow(ConfigError);
      expect(() => loadConfig({ ...base, ...lambda, FEDBROKER_AUDIT_TABLE_WRITE: 'inline' })).toThrow(ConfigError);
      expect(() => loadConfig({ ...base, ...lambda, FEDBROKER_AUDIT_TABLE_WRITE: 'file' })).toThrow(ConfigError);
    });
  }
  it('tenant admin config refuses malformed values too', () => {
    expect(() => loadTenantAdminConfig({ FEDBROKER_TABLE: 'fedbroker-test', FEDBROKER_AUDIT_RETENTION_DAYS: '1e3' })).toThrow(ConfigError);
    expect(() => loadTenantAdminConfig({ FEDBROKER_TABLE: 'fedbroker-test', FEDBROKER_LOCAL: 'yes' })).toThrow(ConfigError);
  });
});

describe('revocation bodies', () => {
  const now = 1_800_000_000_000;
  const writes: unknown[] = [];
  const deps = {
    issuer: 'https://issuer.fedbroker.test',
    keyRing: { publishedKeys: async () => [] },
    clock: { now: () => now },
    revocations: {
      revoke: async (e: unknown) => {
        writes.push(e);
        return 'ok';
      },
    },
    accessTokenMaxTtl: 3600,
  } as unknown as RevokeDeps;
  const jti = '0f8fad5b-d9cb-469f-a165-70867728950e';
  const nowS = now / 1000;
  const bad: unknown[] = [
    null,
    [],
    'x',
    5,
    true,
    {},
    { token: '' },
    { token: 5 },
    { token: ['a'] },
    { token: 'a'.repeat(20000) },
    { token: 'a', jti, exp: nowS },
    { jti, exp: nowS, extra: 1 },
    { jti },
    { exp: nowS },
    { jti, exp: String(nowS) },
    { jti, exp: nowS + 0.5 },
    { jti, exp: -1 },
    { jti, exp: 0 },
    { jti, exp: -0 },
    { jti, exp: 2 ** 53 },
    { jti, exp: 1e300 },
    { jti, exp: nowS + 3601 },
    { jti: 'not-a-uuid', exp: nowS },
    { jti: `${jti}\n`, exp: nowS },
    { jti: ` ${jti}`, exp: nowS },
    { jti: 5, exp: nowS },
    { jti, exp: null },
    { jti, exp: [nowS] },
    { jti, exp: { valueOf: () => nowS } },
    JSON.parse(`{"__proto__": {"token": "x"}}`),
    JSON.parse(`{"jti": "${jti}", "exp": ${nowS}, "__proto__": 1}`),
    Object.assign(Object.create({ token: 'x' }), {}),
    { jti: jti.replace(/a/g, 'ª'), exp: nowS },
  ];
  bad.forEach((body, i) => {
    it(`refuses body #${i} with invalid_request`, async () => {
      writes.length = 0;
      const r = revokeAccessToken(deps, 'acme', body);
      await expect(r).rejects.toBeInstanceOf(InvalidRequest);
      expect(writes).toEqual([]);
    });
  });
  it('accepts the documented jti shape (upper-case jti is lowered) and caps exp at now + max TTL', async () => {
    writes.length = 0;
    await expect(revokeAccessToken(deps, 'acme', { exp: nowS + 3600, jti: jti.toUpperCase() })).resolves.toMatchObject({
      revoked: true,
      jti,
    });
    expect(writes).toEqual([{ jti, tenant: 'acme', exp: nowS + 3600 }]);
  });
  it('a garbage token is 400, not 500', async () => {
    await expect(revokeAccessToken(deps, 'acme', { token: 'a.b.c' })).rejects.toBeInstanceOf(InvalidRequest);
    await expect(revokeAccessToken(deps, 'acme', { token: 'x' })).rejects.toBeInstanceOf(InvalidRequest);
  });
});

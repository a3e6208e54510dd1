import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type TestBroker } from '../../../../support/broker.ts';
import { awsEnv, builtCli, cliRunner, tempConfigHome, type RunCli } from '../../../../support/cli.ts';
import { freePort } from '../../../../support/free-port.ts';
import { tenantAdmin } from '../../../../support/tenants.ts';

let broker: TestBroker;
let cli: RunCli;
let store: ReturnType<typeof tenantAdmin>['store'];

const ISSUER = 'https://token.example.com';
const create = (tenant: string, ...extra: string[]) => [
  'admin',
  'create-tenant',
  tenant,
  '--admin-issuer',
  ISSUER,
  '--admin-audience',
  'fedbroker',
  ...extra,
];

beforeAll(async () => {
  [broker] = await Promise.all([startBroker(), builtCli()]);
  const home = tempConfigHome();
  cli = cliRunner({ HOME: home, XDG_CONFIG_HOME: home, ...awsEnv(broker.env) });
  store = tenantAdmin(broker.tableName).store;
});
afterAll(async () => broker?.close());

describe('fedbroker admin', () => {
  it('creates a tenant and its admin relationship, and prints both with -o json', async () => {
    const condition = JSON.stringify({ StringEquals: { sub: 'ops' } });
    const res = await cli(
      create(
        'initech',
        '--name',
        'Initech',
        '--admin-condition',
        condition,
        '--admin-subject-template',
        'admin/{claims.sub}',
        '-o',
        'json',
      ),
    );
    expect(res).toMatchObject({ code: 0, stderr: '' });
    const printed = JSON.parse(res.stdout) as { tenant: Record<string, unknown>; relationship: Record<string, unknown> };
    expect(printed.tenant).toMatchObject({ id: 'initech', name: 'Initech', status: 'active' });
    const expected = {
      id: 'admin',
      kind: 'oidc',
      issuer: ISSUER,
      audiences: ['fedbroker'],
      conditions: { StringEquals: { sub: 'ops' } },
      scopes: ['trust:admin', 'id-token:issue'],
      subject_template: 'admin/{claims.sub}',
    };
    expect(printed.relationship).toMatchObject(expected);
    const stored = await store.readTenant('initech');
    expect(stored.tenant).toMatchObject({ status: 'active', name: 'Initech' });
    expect(stored.relationships).toEqual([expect.objectContaining(expected)]);
  });

  it('takes the table from --table as well as from FEDBROKER_TABLE', async () => {
    const res = await cli([...create('hooli'), '--table', broker.tableName], { FEDBROKER_TABLE: undefined });
    expect(res).toMatchObject({ code: 0, stdout: '' });
    expect(res.stderr).toContain('created tenant hooli');
    expect((await store.readTenant('hooli')).tenant).toBeDefined();
  });

  it('refuses an existing tenant with exit 1', async () => {
    const res = await cli(create('initech'));
    expect(res).toMatchObject({ code: 1, stdout: '', stderr: 'fedbroker: conflict: tenant initech already exists\n' });
  });

  it('validates the admin relationship before writing anything, so a refused one leaves no tenant', async () => {
    const res = await cli([
      'admin',
      'create-tenant',
      'umbrella',
      '--admin-issuer',
      'http://127.0.0.1:8080',
      '--admin-audience',
      'fedbroker',
    ]);
    expect(res).toMatchObject({ code: 2, stdout: '' });
    expect(res.stderr).toMatch(/^fedbroker: invalid_request: invalid trust relationship: issuer: .+\n$/);
    expect((await store.readTenant('umbrella')).tenant).toBeUndefined();
  });

  it('allows an http://127.0.0.1 issuer with --local', async () => {
    const res = await cli([
      'admin',
      'create-tenant',
      'umbrella',
      '--admin-issuer',
      'http://127.0.0.1:8080',
      '--admin-audience',
      'fedbroker',
      '--local',
    ]);
    expect(res.code).toBe(0);
  });

  it('refuses a shared public issuer without a pinning condition, as the API does', async () => {
    const res = await cli([
      'admin',
      'create-tenant',
      'wayne',
      '--admin-issuer',
      'https://token.actions.githubusercontent.com',
      '--admin-audience',
      'fedbroker',
    ]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('GitHub Actions is a shared public issuer');
  });

  it('disables and re-enables a tenant', async () => {
    const off = await cli(['admin', 'disable-tenant', 'hooli']);
    expect(off).toMatchObject({ code: 0, stdout: '' });
    expect(off.stderr).toMatch(/^fedbroker: tenant hooli is disabled/);
    expect((await store.readTenant('hooli')).tenant?.status).toBe('disabled');
    const on = await cli(['admin', 'enable-tenant', 'hooli', '-o', 'json']);
    expect(JSON.parse(on.stdout)).toEqual({ tenant: 'hooli', status: 'active' });
    expect((await store.readTenant('hooli')).tenant?.status).toBe('active');
  });

  it('reports a tenant that does not exist with exit 1', async () => {
    const res = await cli(['admin', 'disable-tenant', 'nobody']);
    expect(res).toMatchObject({ code: 1, stderr: 'fedbroker: not_found: tenant nobody does not exist\n' });
  });

  it.each([
    [['admin', 'create-tenant', 'acme', '--admin-audience', 'x'], /required option '--admin-issuer <url>'/],
    [['admin', 'create-tenant', 'AC', '--admin-issuer', ISSUER, '--admin-audience', 'x'], /a tenant id is 3-63/],
    [[...create('acme'), '--admin-condition', '{not json'], /--admin-condition is not valid JSON/],
    [[...create('acme'), '--admin-condition', '[1]'], /--admin-condition must be a JSON object/],
    [
      [...create('acme'), '--admin-condition', '{"StringEquals":{"sub":"a"},"StringEquals":{"sub":"b"}}'],
      /--admin-condition repeats the member "StringEquals" within one object/,
    ],
    [['admin', 'enable-tenant'], /missing required argument 'tenant'/],
  ])('exits 2 with one usage line for %j', async (args, message) => {
    const res = await cli(args);
    expect(res).toMatchObject({ code: 2, stdout: '' });
    expect(res.stderr).toMatch(/^fedbroker: usage_error: .+\n$/);
    expect(res.stderr).toMatch(message);
  });

  it('needs a table name', async () => {
    const res = await cli(create('acme'), { FEDBROKER_TABLE: undefined });
    expect(res).toMatchObject({ code: 2, stderr: 'fedbroker: usage_error: name the DynamoDB table with --table or FEDBROKER_TABLE\n' });
  });

  it('reads the deployment variables as the broker does: one it would refuse is a usage error naming it', async () => {
    const retention = await cli(create('acme'), { FEDBROKER_AUDIT_RETENTION_DAYS: '0' });
    expect(retention).toMatchObject({ code: 2, stdout: '' });
    expect(retention.stderr).toMatch(/^fedbroker: usage_error: fix the deployment's configuration: FEDBROKER_AUDIT_RETENTION_DAYS: .+\n$/);
    const cognito = await cli(create('acme'), { FEDBROKER_COGNITO_ISSUER: 'http://cognito.example.com' });
    expect(cognito).toMatchObject({ code: 2, stdout: '' });
    expect(cognito.stderr).toMatch(/^fedbroker: usage_error: fix the deployment's configuration: FEDBROKER_COGNITO_ISSUER: .+\n$/);
    expect((await store.readTenant('acme')).tenant).toBeUndefined();
  });

  it('reports an unreachable DynamoDB in one line on stderr, with exit 1', async () => {
    const res = await cli(create('acme'), { AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${await freePort()}` });
    expect(res).toMatchObject({ code: 1, stdout: '' });
    expect(res.stderr).toMatch(/^fedbroker: temporarily_unavailable: DynamoDB is temporarily unavailable; retry later.*\n$/);
  });

  describe('identity pool allowances (shared AWS resources: one tenant each)', () => {
    const POOL = 'us-east-1:0a1b2c3d-0000-4000-8000-00000000000a';
    const ROLE = 'arn:aws:iam::444455556666:role/initech-vend';

    it('allows a pool and its role to one tenant, idempotently, and prints them with -o json', async () => {
      const res = await cli(['admin', 'allow-identity-pool', 'initech', POOL, '--role-arn', ROLE, '-o', 'json']);
      expect(res).toMatchObject({ code: 0, stderr: '' });
      expect(JSON.parse(res.stdout)).toEqual({ tenant: 'initech', identity_pool_id: POOL, role_arn: ROLE });
      expect((await cli(['admin', 'allow-identity-pool', 'initech', POOL])).code).toBe(0);
      expect((await store.readTenant('initech')).tenant).toMatchObject({ allowed_identity_pools: [POOL], allowed_role_arns: [ROLE] });
    });

    it('refuses the same pool, or the same role, to a second tenant with exit 1 (conflict)', async () => {
      expect(await cli(['admin', 'allow-identity-pool', 'hooli', POOL])).toMatchObject({
        code: 1,
        stderr: `fedbroker: conflict: identity pool ${POOL} is already allowed for another tenant\n`,
      });
      const other = 'us-east-1:0a1b2c3d-0000-4000-8000-00000000000b';
      expect(await cli(['admin', 'allow-identity-pool', 'hooli', other, '--role-arn', ROLE])).toMatchObject({
        code: 1,
        stderr: 'fedbroker: conflict: that role is already allowed for another tenant\n',
      });
    });

    it.each([
      [
        'a tenant that does not exist',
        ['allow-identity-pool', 'nobody-here', POOL],
        1,
        'fedbroker: not_found: tenant nobody-here does not exist\n',
      ],
      [
        'a malformed pool id',
        ['allow-identity-pool', 'initech', 'not-a-pool'],
        1,
        'fedbroker: invalid_request: identity pool must be <region>:<guid>\n',
      ],
      [
        'a malformed role ARN',
        ['allow-identity-pool', 'initech', POOL, '--role-arn', 'arn:aws:iam::1:user/x'],
        1,
        'fedbroker: invalid_request: role must be an IAM role ARN\n',
      ],
      [
        'withdrawing from a tenant that does not exist',
        ['disallow-identity-pool', 'nobody-here', POOL],
        1,
        'fedbroker: not_found: tenant nobody-here does not exist\n',
      ],
    ])('refuses %s, writing nothing', async (_name, args, code, stderr) => {
      expect(await cli(['admin', ...args])).toMatchObject({ code, stdout: '', stderr });
    });

    it('frees a withdrawn pool for another tenant', async () => {
      expect((await cli(['admin', 'disallow-identity-pool', 'initech', POOL])).code).toBe(0);
      expect((await store.readTenant('initech')).tenant?.allowed_identity_pools ?? []).toEqual([]);
      expect((await cli(['admin', 'allow-identity-pool', 'hooli', POOL])).code).toBe(0);
    });
  });
});

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, cpSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

type Template = { Resources: Record<string, { Type: string; Properties: Record<string, any> }> };

// `serverless package` with fake credentials builds the CloudFormation template offline.
describe('serverless package', () => {
  let template: Template;
  beforeAll(() => {
    const dir = mkdtempSync(join(tmpdir(), 'fedbroker-pkg-'));
    for (const f of ['serverless.yml', 'package.json', 'tsconfig.json', 'functions', 'lib']) cpSync(f, join(dir, f), { recursive: true });
    symlinkSync(resolve('node_modules'), join(dir, 'node_modules'));
    const out = spawnSync(process.execPath, [resolve('node_modules/serverless/bin/serverless.js'), 'package', '--stage', 'ci'], {
      cwd: dir,
      env: { ...process.env, AWS_ACCESS_KEY_ID: 'AKIAFAKEFAKEFAKE', AWS_SECRET_ACCESS_KEY: 'fake', SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off' },
      encoding: 'utf8',
      timeout: 120_000,
    });
    const file = join(dir, '.serverless/cloudformation-template-update-stack.json');
    if (!existsSync(file)) throw new Error(`package failed:\n${out.stdout}\n${out.stderr}`);
    template = JSON.parse(readFileSync(file, 'utf8')) as Template;
  }, 150_000);

  const resource = (type: string) => Object.entries(template.Resources).filter(([, r]) => r.Type === type);
  const policy = () => resource('AWS::IAM::Role')[0]?.[1].Properties.Policies[0].PolicyDocument.Statement as { Action: string[]; Resource: unknown[] }[];

  it('creates an asymmetric KMS key for signing, with an alias', () => {
    const keys = resource('AWS::KMS::Key');
    expect(keys).toHaveLength(1);
    expect(keys[0]?.[1].Properties).toMatchObject({ KeyUsage: 'SIGN_VERIFY', KeySpec: 'RSA_2048' });
    expect(resource('AWS::KMS::Alias')).toHaveLength(1);
  });

  it('creates the single table on demand, with point-in-time recovery and TTL', () => {
    const tables = resource('AWS::DynamoDB::Table');
    expect(tables).toHaveLength(1);
    expect(tables[0]?.[1].Properties).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'expires_at', Enabled: true },
    });
  });

  it('lets the functions sign and read public keys with that key only', () => {
    const kms = policy().filter((s) => s.Action.some((a) => a.startsWith('kms:')));
    expect(kms).toHaveLength(1);
    expect(kms[0]?.Action.sort()).toEqual(['kms:GetPublicKey', 'kms:Sign']);
    expect(kms[0]?.Resource).toEqual([{ 'Fn::GetAtt': ['SigningKey', 'Arn'] }]);
  });

  it('scopes DynamoDB access to the table', () => {
    const ddb = policy().filter((s) => s.Action.some((a) => a.startsWith('dynamodb:')));
    expect(ddb.flatMap((s) => s.Resource)).toEqual([{ 'Fn::GetAtt': ['Table', 'Arn'] }]);
    expect(ddb.flatMap((s) => s.Action)).not.toContain('dynamodb:*');
  });

  it('lets the functions vend Cognito tokens only for the listed identity pools', () => {
    const cognito = policy().filter((s) => s.Action.some((a) => a.startsWith('cognito-identity:')));
    expect(cognito).toHaveLength(1);
    expect(cognito[0]?.Action).toEqual(['cognito-identity:GetOpenIdTokenForDeveloperIdentity']);
    expect(JSON.stringify(cognito[0]?.Resource)).not.toMatch(/identitypool\/\*|"\*"/);
  });

  it('runs every function on nodejs22.x behind HTTP API routes', () => {
    const fns = resource('AWS::Lambda::Function');
    expect(fns.length).toBeGreaterThanOrEqual(3);
    for (const [, fn] of fns) expect(fn.Properties.Runtime).toBe('nodejs22.x');
    const routes = resource('AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties.RouteKey);
    expect(routes).toEqual(expect.arrayContaining(['ANY /.well-known/openid-configuration', 'ANY /.well-known/jwks.json', '$default']));
  });
});

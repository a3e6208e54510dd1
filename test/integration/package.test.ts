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
    for (const f of ['serverless.yml', 'package.json', 'tsconfig.json', 'functions', 'lib', 'scripts']) cpSync(f, join(dir, f), { recursive: true });
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
  const policy = () => template.Resources.IamRoleLambdaExecution?.Properties.Policies[0].PolicyDocument.Statement as { Action: string[]; Resource: unknown[] }[];

  it('creates an asymmetric KMS key for signing, with an alias', () => {
    const keys = resource('AWS::KMS::Key');
    expect(keys).toHaveLength(2);
    expect(template.Resources.SigningKey?.Properties).toMatchObject({ KeyUsage: 'SIGN_VERIFY', KeySpec: 'RSA_2048' });
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

  it('lets the functions sign only with the stack key or keys carrying the fedbroker:managed tag', () => {
    const kms = policy().filter((s) => s.Action.some((a) => a.startsWith('kms:')));
    const sign = kms.filter((s) => s.Action.includes('kms:Sign'));
    expect(sign.map((s) => s.Resource)).toEqual([[{ 'Fn::GetAtt': ['SigningKey', 'Arn'] }], '*']);
    expect((sign[1] as unknown as { Condition: unknown }).Condition).toEqual({ StringEquals: { 'aws:ResourceTag/fedbroker:managed': 'true' } });
    expect(kms.flatMap((s) => s.Action)).not.toContain('kms:CreateKey');
    expect(kms.flatMap((s) => s.Action)).not.toContain('kms:ScheduleKeyDeletion');
    expect(kms.flatMap((s) => s.Action)).not.toContain('kms:*');
  });

  it('subscribes auditIngest to the audit lines of every function that audits, once each log group exists', () => {
    const filters = resource('AWS::Logs::SubscriptionFilter').map(([, r]) => r as unknown as { Properties: Record<string, string>; DependsOn: string[] });
    const groups = ['token', 'cognitoIdentityToken', 'trustRelationships', 'trustRelationship', 'identityPools', 'identityPool', 'revocations', 'rotateKeys'];
    expect(filters.map((f) => f.Properties.LogGroupName).sort()).toEqual(groups.map((g) => `/aws/lambda/fedbroker-ci-${g}`).sort());
    for (const f of filters) {
      expect(f.Properties.FilterPattern).toBe('{ $.audit IS TRUE }');
      expect(f.Properties.DestinationArn).toEqual({ 'Fn::GetAtt': ['AuditIngestLambdaFunction', 'Arn'] });
      const group = f.Properties.LogGroupName!.split('-').pop()!;
      expect(f.DependsOn).toContain(`${group[0]!.toUpperCase()}${group.slice(1)}LogGroup`);
    }
  });

  it('gives auditIngest its own role that can only batch-write items of audit partitions and keep failed deliveries', () => {
    const role = template.Resources.AuditIngestRole?.Properties.Policies[0].PolicyDocument.Statement as { Action: string[]; Resource: unknown; Condition?: unknown }[];
    expect(role).toHaveLength(2);
    expect(role[0]?.Action).toEqual(['dynamodb:BatchWriteItem']);
    expect(role[0]?.Condition).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['AUDIT#*'] } });
    expect(role[1]).toMatchObject({ Action: ['sqs:SendMessage'], Resource: [{ 'Fn::GetAtt': ['AuditIngestFailures', 'Arn'] }] });
    expect(template.Resources.AuditIngestLambdaFunction?.Properties.Role).toEqual({ 'Fn::GetAtt': ['AuditIngestRole', 'Arn'] });
  });

  it('sends audit deliveries that failed every retry to a queue, kept 14 days', () => {
    const [config] = resource('AWS::Lambda::EventInvokeConfig').filter(([, r]) => JSON.stringify(r.Properties.FunctionName).includes('AuditIngest'));
    expect(config?.[1].Properties.DestinationConfig).toEqual({ OnFailure: { Destination: { 'Fn::GetAtt': ['AuditIngestFailures', 'Arn'] } } });
    expect(template.Resources.AuditIngestFailures?.Properties).toMatchObject({ MessageRetentionPeriod: 1209600 });
  });

  it('gives the rotation function its own role that can create and delete only tagged keys', () => {
    const role = template.Resources.RotationRole?.Properties.Policies[0].PolicyDocument.Statement as { Sid: string; Action: string[]; Resource: unknown; Condition?: unknown }[];
    const create = role.find((s) => s.Action.includes('kms:CreateKey'));
    expect(create?.Condition).toMatchObject({ StringEquals: { 'aws:RequestTag/fedbroker:managed': 'true' } });
    const del = role.find((s) => s.Action.includes('kms:ScheduleKeyDeletion'));
    expect(del?.Condition).toEqual({ StringEquals: { 'aws:ResourceTag/fedbroker:managed': 'true' } });
    const fn = template.Resources.RotateKeysLambdaFunction?.Properties;
    expect(fn?.Role).toEqual({ 'Fn::GetAtt': ['RotationRole', 'Arn'] });
    const stackKey = template.Resources.SigningKey?.Properties.Tags as { Key: string }[];
    expect(stackKey.map((t) => t.Key)).not.toContain('fedbroker:managed');
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

  it('lets the functions assume only the listed Cognito roles', () => {
    const assume = policy().filter((s) => s.Action.includes('sts:AssumeRole'));
    expect(assume.map((s) => [s.Action, JSON.stringify(s.Resource)])).toEqual([[['sts:AssumeRole'], expect.stringContaining('role/fedbroker-none-listed')]]);
  });

  it('runs every function on nodejs22.x behind HTTP API routes', () => {
    const fns = resource('AWS::Lambda::Function');
    expect(fns.length).toBeGreaterThanOrEqual(3);
    for (const [, fn] of fns) expect(fn.Properties.Runtime).toBe('nodejs22.x');
    const routes = resource('AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties.RouteKey);
    expect(routes).toEqual(expect.arrayContaining(['ANY /.well-known/openid-configuration', 'ANY /.well-known/jwks.json', '$default']));
  });
});

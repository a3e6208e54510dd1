import { beforeAll, describe, expect, it } from 'vitest';
import { packagedTemplate, resourcesOf, type Template } from '../support/packaged-template.ts';

// `serverless package` with fake credentials builds the CloudFormation template offline.
// What each function's role may do is test/integration/iam.test.ts.
describe('serverless package', () => {
  let template: Template;
  beforeAll(() => {
    template = packagedTemplate();
  }, 150_000);

  const resource = (type: string) => resourcesOf(template, type);
  const statements = (policy: string) =>
    template.Resources[policy]?.Properties.PolicyDocument.Statement as {
      Sid: string;
      Action: string | string[];
      Resource: unknown;
      Condition?: unknown;
    }[];
  const functions = () => resource('AWS::Lambda::Function');

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

  it('subscribes auditIngest to the audit lines of every function that audits, once each log group exists', () => {
    const filters = resource('AWS::Logs::SubscriptionFilter').map(
      ([, r]) => r as unknown as { Properties: Record<string, string>; DependsOn: string[] },
    );
    const groups = [
      'token',
      'cognitoIdentityToken',
      'trustRelationships',
      'trustRelationship',
      'identityPools',
      'identityPool',
      'revocations',
      'rotateKeys',
      'trustAnchors',
      'trustAnchor',
      'x509',
    ];
    expect(filters.map((f) => f.Properties.LogGroupName).sort()).toEqual(groups.map((g) => `/aws/lambda/fedbroker-ci-${g}`).sort());
    for (const f of filters) {
      expect(f.Properties.FilterPattern).toBe('{ $.audit IS TRUE }');
      expect(f.Properties.DestinationArn).toEqual({ 'Fn::GetAtt': ['AuditIngestLambdaFunction', 'Arn'] });
      const group = f.Properties.LogGroupName!.split('-').pop()!;
      expect(f.DependsOn).toContain(`${group[0]!.toUpperCase()}${group.slice(1)}LogGroup`);
    }
  });

  it('sends audit deliveries that failed every retry to a queue, kept 14 days', () => {
    const [config] = resource('AWS::Lambda::EventInvokeConfig').filter(([, r]) =>
      JSON.stringify(r.Properties.FunctionName).includes('AuditIngest'),
    );
    expect(config?.[1].Properties.DestinationConfig).toEqual({
      OnFailure: { Destination: { 'Fn::GetAtt': ['AuditIngestFailures', 'Arn'] } },
    });
    expect(template.Resources.AuditIngestFailures?.Properties).toMatchObject({ MessageRetentionPeriod: 1209600 });
  });

  it("deploys no local-run setting and only a KMS signer, with this stage's key tag", () => {
    for (const [, fn] of functions()) {
      const env = fn.Properties.Environment.Variables as Record<string, unknown>;
      expect(Object.keys(env)).not.toContain('FEDBROKER_LOCAL');
      expect(Object.keys(env)).not.toContain('FEDBROKER_DATA_DIR');
      expect(env).toMatchObject({ FEDBROKER_SIGNER: 'kms', FEDBROKER_MANAGED_KEY_TAG: 'fedbroker-ci' });
    }
  });

  it('gives every function a role of its own and creates no shared one', () => {
    const roles = functions().map(([, fn]) => (fn.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0]);
    expect(new Set(roles).size).toBe(functions().length);
    expect(template.Resources.IamRoleLambdaExecution).toBeUndefined();
  });

  it('names only the listed identity pools and roles for Cognito vending, never a wildcard', () => {
    const [vend, assume] = statements('CognitoVendPolicy');
    expect(vend).toMatchObject({ Action: 'cognito-identity:GetOpenIdTokenForDeveloperIdentity' });
    expect(JSON.stringify(vend?.Resource)).not.toMatch(/identitypool\/\*|"\*"/);
    expect(assume).toMatchObject({ Action: 'sts:AssumeRole' });
    expect(JSON.stringify(assume?.Resource)).toContain('role/fedbroker-none-listed');
  });

  it("keeps the stack key out of rotation's reach: it carries no fedbroker:managed tag", () => {
    const stackKey = template.Resources.SigningKey?.Properties.Tags as { Key: string }[];
    expect(stackKey.map((t) => t.Key)).not.toContain('fedbroker:managed');
  });

  it('runs every function on nodejs22.x behind HTTP API routes', () => {
    const fns = resource('AWS::Lambda::Function');
    expect(fns.length).toBeGreaterThanOrEqual(3);
    for (const [, fn] of fns) expect(fn.Properties.Runtime).toBe('nodejs22.x');
    const routes = resource('AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties.RouteKey);
    expect(routes).toEqual(expect.arrayContaining(['ANY /.well-known/openid-configuration', 'ANY /.well-known/jwks.json', '$default']));
  });
});

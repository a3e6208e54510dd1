// The evaluator the template's IAM test relies on: a wrong "deny" there would pass every deny row,
// so its evaluation rules are pinned here on hand-written policies.
import { describe, expect, it } from 'vitest';
import { evaluate, type Statement } from '../../support/iam-policy.ts';

const table = { ref: 'Table' };
const key = (pk: string | string[]) => ({ 'dynamodb:LeadingKeys': pk });
const tenantOnly: Statement = {
  Effect: 'Allow',
  Action: ['dynamodb:Query'],
  Resource: { 'Fn::GetAtt': ['Table', 'Arn'] },
  Condition: {
    'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['TENANT#*'] },
    'ForAllValues:StringNotLike': { 'dynamodb:LeadingKeys': ['TENANT#*#TOMB'] },
  },
};

describe('the IAM evaluator', () => {
  it('allows only what an Allow statement names, on the resource it names', () => {
    expect(evaluate([tenantOnly], { action: 'dynamodb:Query', resource: table, context: key('TENANT#a') })).toBe('allow');
    expect(evaluate([tenantOnly], { action: 'dynamodb:PutItem', resource: table, context: key('TENANT#a') })).toBe('deny');
    expect(evaluate([tenantOnly], { action: 'dynamodb:Query', resource: { ref: 'OtherTable' }, context: key('TENANT#a') })).toBe('deny');
    expect(
      evaluate([tenantOnly], {
        action: 'dynamodb:Query',
        resource: { arn: 'arn:aws:dynamodb:us-east-1:1:table/x' },
        context: key('TENANT#a'),
      }),
    ).toBe('deny');
  });

  it('applies every operator of a condition: LeadingKeys inside TENANT# but not its tombstones', () => {
    expect(evaluate([tenantOnly], { action: 'dynamodb:Query', resource: table, context: key('TENANT#a#TOMB') })).toBe('deny');
    expect(evaluate([tenantOnly], { action: 'dynamodb:Query', resource: table, context: key('KEY') })).toBe('deny');
    expect(evaluate([tenantOnly], { action: 'dynamodb:Query', resource: table, context: key(['TENANT#a', 'CLAIM#x']) })).toBe('deny');
  });

  it('holds ForAllValues vacuously when the request has no such key (why no role is granted Scan)', () => {
    expect(evaluate([tenantOnly], { action: 'dynamodb:Query', resource: table, context: {} })).toBe('allow');
  });

  it('lets an explicit Deny win over any Allow, and reports it as explicit', () => {
    const deny: Statement = { Effect: 'Deny', Action: 'kms:*', Resource: [{ 'Fn::GetAtt': ['SigningKey', 'Arn'] }] };
    const allow: Statement = { Effect: 'Allow', Action: 'kms:ScheduleKeyDeletion', Resource: '*' };
    expect(evaluate([allow, deny], { action: 'kms:ScheduleKeyDeletion', resource: { ref: 'SigningKey' }, context: {} })).toBe(
      'deny (explicit)',
    );
    expect(
      evaluate([allow, deny], { action: 'kms:ScheduleKeyDeletion', resource: { arn: 'arn:aws:kms:us-east-1:1:key/k' }, context: {} }),
    ).toBe('allow');
  });

  it('treats a missing key as matching no value: positive operators fail, negated ones and Null=true hold', () => {
    const tagged: Statement = {
      Effect: 'Allow',
      Action: 'kms:Sign',
      Resource: '*',
      Condition: { StringEquals: { 'aws:ResourceTag/t': 'v' } },
    };
    const untagged: Statement = {
      Effect: 'Allow',
      Action: 'kms:Sign',
      Resource: '*',
      Condition: { StringNotEquals: { 'aws:ResourceTag/t': 'v' } },
    };
    const absent: Statement = { Effect: 'Allow', Action: 'kms:Sign', Resource: '*', Condition: { Null: { 'aws:ResourceTag/t': 'true' } } };
    const req = (context: Record<string, string>) => ({ action: 'kms:Sign', resource: { arn: 'arn:aws:kms:us-east-1:1:key/k' }, context });
    expect(evaluate([tagged], req({}))).toBe('deny');
    expect(evaluate([tagged], req({ 'aws:ResourceTag/t': 'v' }))).toBe('allow');
    expect(evaluate([untagged], req({}))).toBe('allow');
    expect(evaluate([untagged], req({ 'aws:ResourceTag/t': 'v' }))).toBe('deny');
    expect(evaluate([absent], req({}))).toBe('allow');
    expect(evaluate([absent], req({ 'aws:ResourceTag/t': 'w' }))).toBe('deny');
  });

  it('matches actions case-insensitively with wildcards, and ARN patterns from Fn::Join', () => {
    const logs: Statement = {
      Effect: 'Allow',
      Action: 'logs:Put*',
      Resource: {
        'Fn::Join': [
          '',
          [
            'arn:',
            { Ref: 'AWS::Partition' },
            ':logs:',
            { Ref: 'AWS::Region' },
            ':',
            { Ref: 'AWS::AccountId' },
            ':log-group:/aws/lambda/svc-ci-*:*',
          ],
        ],
      },
    };
    const arn = (group: string) => ({ arn: `arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/${group}:log-stream:s` });
    expect(evaluate([logs], { action: 'LOGS:PutLogEvents', resource: arn('svc-ci-token'), context: {} })).toBe('allow');
    expect(evaluate([logs], { action: 'logs:PutLogEvents', resource: arn('svc-prod-token'), context: {} })).toBe('deny');
  });

  it('refuses what it does not model instead of guessing', () => {
    expect(() =>
      evaluate([{ Effect: 'Allow', NotAction: 'kms:Sign', Resource: '*' }], { action: 'kms:Sign', resource: table, context: {} }),
    ).toThrow(/NotAction/);
    const numeric: Statement = { Effect: 'Allow', Action: 'kms:Sign', Resource: '*', Condition: { NumericLessThan: { 'kms:x': '1' } } };
    expect(() => evaluate([numeric], { action: 'kms:Sign', resource: table, context: {} })).toThrow(/unsupported condition operator/);
    const single: Statement = {
      Effect: 'Allow',
      Action: 'dynamodb:Query',
      Resource: '*',
      Condition: { StringLike: { 'dynamodb:LeadingKeys': 'KEY' } },
    };
    expect(() => evaluate([single], { action: 'dynamodb:Query', resource: table, context: key(['KEY']) })).toThrow(/multivalued/);
  });
});

// What each function's role may do, evaluated over the packaged template against the table in
// docs/security/iam.md (both directions: the doc cannot promise what the template does not do,
// and the template cannot grant what the doc does not show).
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { evaluate, functionPolicies, PSEUDO, type Request, type Statement } from '../support/iam-policy.ts';
import { packagedTemplate, resourcesOf, type Template } from '../support/packaged-template.ts';

const STAGE_TAG = 'fedbroker-ci';
const ACCOUNT = PSEUDO['AWS::AccountId']!;
const FOREIGN_ACCOUNT = '999999999999';
const CREATE = `kms:KeySpec=RSA_2048; kms:KeyUsage=SIGN_VERIFY; kms:KeyOrigin=AWS_KMS; kms:MultiRegion=false; newtag=$stage`;

const doc = readFileSync('docs/security/iam.md', 'utf8');

/** The rows of the markdown table that follows `heading`. */
function table(heading: string): string[][] {
  const section = doc.split(`\n## ${heading}\n`)[1]?.split('\n## ')[0];
  if (!section) throw new Error(`docs/security/iam.md has no "${heading}" section`);
  const rows = section.split('\n').filter((l) => l.startsWith('|'));
  return rows.slice(2).map((l) =>
    l
      .split('|')
      .slice(1, -1)
      .map((c) => c.trim()),
  );
}

/** A row's resource and context, in the vocabulary the doc defines, as an IAM request context. */
function request(action: string, resource: string, context: string): Request {
  const ctx: Record<string, string | string[]> = {};
  for (const pair of context
    .replace('$create', CREATE)
    .split(';')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [key, raw = ''] = pair.split('=') as [string, string?];
    const value = raw.replace('$stage', STAGE_TAG);
    if (key === 'pk') ctx['dynamodb:LeadingKeys'] = value.split(',');
    else if (key === 'tag') ctx['aws:ResourceTag/fedbroker:managed'] = value;
    else if (key === 'newtag') {
      ctx['aws:RequestTag/fedbroker:managed'] = value;
      ctx['aws:TagKeys'] = ['fedbroker:managed'];
    } else if (/^(kms|aws):/.test(key)) ctx[key] = value;
    else throw new Error(`unknown context ${pair}`);
  }
  let asked: Request['resource'];
  const [kind, id] = resource.split(/\/(.*)/) as [string, string?];
  if (resource === '*' || resource.startsWith('arn:')) asked = { arn: resource };
  else if (kind === 'key') asked = { arn: `arn:aws:kms:us-east-1:${ACCOUNT}:key/${id}` };
  else if (kind === 'foreign-key') asked = { arn: `arn:aws:kms:us-east-1:${FOREIGN_ACCOUNT}:key/${id}` };
  else if (kind === 'log')
    asked = { arn: `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:/aws/lambda/${id}:log-stream:2026/12/07/[$LATEST]0` };
  else asked = { ref: resource };
  // IAM sets aws:ResourceAccount from the resource; the stack's own resources are this account's.
  if ('ref' in asked) ctx['aws:ResourceAccount'] = ACCOUNT;
  else if (asked.arn !== '*') ctx['aws:ResourceAccount'] = asked.arn.split(':')[4] || ACCOUNT;
  return { action, resource: asked, context: ctx };
}

describe('IAM of the packaged template', () => {
  let template: Template;
  const fns = () =>
    resourcesOf(template, 'AWS::Lambda::Function').map(([id]) => `${id[0]!.toLowerCase()}${id.slice(1, -'LambdaFunction'.length)}`);
  const policiesOf = (fn: string): Statement[] => functionPolicies(template.Resources, fn).statements;
  beforeAll(() => {
    template = packagedTemplate();
  }, 150_000);

  it('gives every function exactly the role and policies the doc lists', () => {
    const roles = table('Roles');
    expect(roles.map(([fn]) => fn).sort()).toEqual(fns().sort());
    for (const [fn, role, policies] of roles) {
      const actual = functionPolicies(template.Resources, fn!);
      expect({ fn, role: actual.role, managed: actual.managed }).toEqual({ fn, role, managed: policies!.split(', ') });
    }
  });

  it('documents every managed policy of the template', () => {
    const documented = table('The policies').map(([name]) => name);
    expect(documented.sort()).toEqual(
      resourcesOf(template, 'AWS::IAM::ManagedPolicy')
        .map(([id]) => id)
        .sort(),
    );
  });

  const checked = table('Checked permissions');
  it('checks every function, with allowed and denied rows', () => {
    expect(new Set(checked.map(([fn]) => fn))).toEqual(new Set(table('Roles').map(([fn]) => fn)));
    expect(
      checked.some((r) => r[4] === 'allow') && checked.some((r) => r[4] === 'deny') && checked.some((r) => r[4] === 'deny (explicit)'),
    ).toBe(true);
  });

  it.each(checked)('%s: %s on %s (%s) is %s', (fn, action, resource, context, decision) => {
    expect(evaluate(policiesOf(fn!), request(action!, resource!, context!))).toBe(decision);
  });

  it("lets no function but rotation create keys or schedule any key's deletion", () => {
    for (const fn of fns().filter((f) => f !== 'rotateKeys')) {
      const p = policiesOf(fn);
      expect([fn, evaluate(p, request('kms:CreateKey', '*', '$create'))]).toEqual([fn, 'deny']);
      expect([fn, evaluate(p, request('kms:ScheduleKeyDeletion', 'key/rotated', 'tag=$stage; kms:KeyUsage=SIGN_VERIFY'))]).toEqual([
        fn,
        'deny',
      ]);
      expect([fn, evaluate(p, request('kms:TagResource', '*', 'newtag=$stage'))]).toEqual([fn, 'deny']);
    }
  });

  it("lets no function touch the operator's CLAIM# partitions", () => {
    const actions = ['GetItem', 'Query', 'PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'BatchGetItem', 'ConditionCheckItem'].map(
      (a) => `dynamodb:${a}`,
    );
    for (const fn of fns())
      for (const action of actions)
        expect([fn, action, evaluate(policiesOf(fn), request(action, 'Table', 'pk=CLAIM#pool'))]).toEqual([fn, action, 'deny']);
  });

  it('lets only the functions that sign tokens sign with any key', () => {
    for (const fn of fns()) {
      const p = policiesOf(fn);
      const signs = ['SigningKey', 'key/rotated'].some((r) => evaluate(p, request('kms:Sign', r, 'tag=$stage')) === 'allow');
      expect([fn, signs]).toEqual([fn, fn === 'token' || fn === 'x509']);
    }
  });

  it('grants no action without a partition key on the table (ForAllValues would hold vacuously)', () => {
    for (const fn of fns())
      for (const action of ['dynamodb:Scan', 'dynamodb:PartiQLSelect', 'dynamodb:ExportTableToPointInTime']) {
        expect([fn, action, evaluate(policiesOf(fn), request(action, 'Table', ''))]).toEqual([fn, action, 'deny']);
      }
  });
});

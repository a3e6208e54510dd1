// A small IAM policy evaluator for the packaged CloudFormation template: enough of the IAM
// evaluation logic (IAM user guide, "Policy evaluation logic" and "IAM JSON policy elements:
// Condition operators") to answer "may this function's role do X" without AWS. An explicit Deny
// wins, an Allow is needed, and anything it does not understand (NotAction, an unknown operator,
// an AWS managed policy) throws rather than guess.

import type { JsonBody } from './json-body.ts';

export type Statement = {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  NotAction?: unknown;
  Resource?: unknown;
  NotResource?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
};

/**
 * What is asked: an action, on a stack resource named by its logical id (matched only by `*` or by
 * a `Fn::GetAtt`/`Ref` of that id: symbolic, as CloudFormation has not resolved it) or on a
 * concrete ARN (matched by `*` and by ARN patterns), with the request's condition keys.
 */
export interface Request {
  action: string;
  resource: { ref: string } | { arn: string };
  context: Record<string, string | string[]>;
}

export type Decision = 'allow' | 'deny' | 'deny (explicit)';

/** Placeholders for the pseudo parameters in Fn::Join'd ARNs. */
export const PSEUDO: Record<string, string> = { 'AWS::Partition': 'aws', 'AWS::Region': 'us-east-1', 'AWS::AccountId': '123456789012' };

const list = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** IAM wildcards: `*` any run of characters, `?` one character; case-sensitive unless told. */
function wildcard(pattern: string, value: string, ignoreCase = false): boolean {
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${re}$`, ignoreCase ? 'i' : '').test(value);
}

/** A literal, or a pseudo parameter's placeholder (ARN patterns, condition values). */
function render(part: unknown): string {
  if (typeof part === 'string' || typeof part === 'boolean' || typeof part === 'number') return String(part);
  const ref = (part as { Ref?: string }).Ref;
  if (ref && PSEUDO[ref]) return PSEUDO[ref];
  throw new Error(`cannot render ${JSON.stringify(part)}`);
}

function resourceMatches(resource: unknown, asked: Request['resource']): boolean {
  for (const r of list(resource)) {
    if (r === '*') return true;
    if (typeof r === 'string') {
      if ('arn' in asked && wildcard(r, asked.arn)) return true;
      continue;
    }
    const obj = r as Record<string, unknown>;
    if ('Fn::GetAtt' in obj) {
      const [id, attr] = obj['Fn::GetAtt'] as [string, string];
      if (attr !== 'Arn') throw new Error(`unexpected Fn::GetAtt ${id}.${attr} as a Resource`);
      if ('ref' in asked && asked.ref === id) return true;
    } else if ('Ref' in obj) {
      if ('ref' in asked && asked.ref === obj.Ref) return true;
    } else if ('Fn::Join' in obj) {
      const [sep, parts] = obj['Fn::Join'] as [string, unknown[]];
      if ('arn' in asked && wildcard(parts.map(render).join(sep), asked.arn)) return true;
    } else if ('Fn::Split' in obj) {
      const [sep, text] = obj['Fn::Split'] as [string, string];
      if (typeof text !== 'string') throw new Error('Fn::Split of a non-literal');
      if (resourceMatches(text.split(sep), asked)) return true;
    } else {
      throw new Error(`unsupported Resource ${JSON.stringify(r)}`);
    }
  }
  return false;
}

const POSITIVE: Record<string, (policy: string, value: string) => boolean> = {
  StringEquals: (p, v) => p === v,
  StringLike: (p, v) => wildcard(p, v),
  Bool: (p, v) => p.toLowerCase() === v.toLowerCase(),
};
const NEGATED: Record<string, string> = { StringNotEquals: 'StringEquals', StringNotLike: 'StringLike' };

/** One operator over one key (IAM user guide, "Condition operators" and "multivalued context keys"). */
function conditionHolds(operator: string, key: string, policyValues: string[], ctx: Request['context']): boolean {
  const [set, op] = operator.includes(':') ? (operator.split(':') as [string, string]) : [undefined, operator];
  if (op === 'Null') {
    if (set) throw new Error('Null with a set operator');
    const absent = ctx[key] === undefined;
    return policyValues.some((p) => (p === 'true') === absent);
  }
  const base = POSITIVE[op] ?? POSITIVE[NEGATED[op] ?? ''];
  if (!base) throw new Error(`unsupported condition operator ${operator}`);
  const negated = op in NEGATED;
  // A value satisfies a positive operator if it matches any policy value, a negated one if none.
  const one = (v: string) => policyValues.some((p) => base(p, v)) !== negated;
  const raw = ctx[key];
  if (set === 'ForAllValues') return raw === undefined || list(raw).every((v) => one(String(v)));
  if (set === 'ForAnyValue') return raw !== undefined && list(raw).some((v) => one(String(v)));
  if (set) throw new Error(`unsupported set operator ${set}`);
  if (Array.isArray(raw)) throw new Error(`${key} is multivalued: ${operator} needs ForAllValues or ForAnyValue`);
  // A missing key matches no value: positive operators fail, negated ones hold.
  return raw === undefined ? negated : one(raw);
}

function statementApplies(s: Statement, req: Request): boolean {
  if (s.NotAction !== undefined || s.NotResource !== undefined)
    throw new Error(`${s.Sid ?? 'statement'}: NotAction/NotResource are not supported`);
  if (!list(s.Action).some((a) => wildcard(String(a), req.action, true))) return false;
  if (!resourceMatches(s.Resource, req.resource)) return false;
  return Object.entries(s.Condition ?? {}).every(([operator, keys]) =>
    Object.entries(keys).every(([key, values]) => conditionHolds(operator, key, list(values).map(render), req.context)),
  );
}

/** The decision for one request against every statement of one principal's policies. */
export function evaluate(statements: readonly Statement[], req: Request): Decision {
  const applying = statements.filter((s) => statementApplies(s, req));
  if (applying.some((s) => s.Effect === 'Deny')) return 'deny (explicit)';
  return applying.some((s) => s.Effect === 'Allow') ? 'allow' : 'deny';
}

type Resources = Record<string, { Type: string; Properties: JsonBody }>;

/** A function's role (by its serverless.yml key) and every statement of its inline and managed policies. */
export function functionPolicies(resources: Resources, fn: string): { role: string; managed: string[]; statements: Statement[] } {
  const logicalId = `${fn[0]!.toUpperCase()}${fn.slice(1)}LambdaFunction`;
  const roleRef = resources[logicalId]?.Properties.Role as { 'Fn::GetAtt'?: [string, string] } | undefined;
  const role = roleRef?.['Fn::GetAtt']?.[0];
  if (!role || resources[role]?.Type !== 'AWS::IAM::Role') throw new Error(`${fn} has no role of its own in the template`);
  const props = resources[role]!.Properties;
  const managed = list(props.ManagedPolicyArns).map((arn) => {
    const id = (arn as { Ref?: string }).Ref;
    if (!id || resources[id]?.Type !== 'AWS::IAM::ManagedPolicy')
      throw new Error(`${role}: managed policy ${JSON.stringify(arn)} is not one of the stack's`);
    return id;
  });
  const statements = [
    ...list(props.Policies).flatMap((p) => list((p as { PolicyDocument: { Statement: unknown } }).PolicyDocument.Statement)),
    ...managed.flatMap((id) => list(resources[id]!.Properties.PolicyDocument.Statement)),
  ] as Statement[];
  return { role, managed, statements };
}

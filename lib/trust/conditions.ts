/**
 * The IAM-style condition language of trust relationships: parse → compile → check, failing
 * closed (the shape of octo-sts `trust_policy.go`, the vocabulary of AWS IAM).
 *
 * A block is `{ "<Operator>": { "<claimKey>": value | [values] } }`. As in AWS ("Creating a
 * condition with multiple keys or values"), the values of one key are ORed (NORed for negated
 * operators), the keys of one operator are ANDed and the operators are ANDed. The operators and
 * the `ForAnyValue:` / `ForAllValues:` / `IfExists` modifiers are those of "IAM JSON policy
 * elements: Condition operators"; where AWS would grant on an absent or empty claim, fedbroker
 * refuses instead (see {@link evaluateConditions}).
 */
import { PolicyInvalid } from '../errors.ts';
import { parseClaimPath, resolveClaim, type ClaimPath } from './claims.ts';

/** One policy value as written in JSON. */
export type ConditionValue = string | number | boolean;
/** Raw conditions as stored and accepted by {@link compileConditions}. */
export type ConditionsInput = Record<string, Record<string, ConditionValue | readonly ConditionValue[]>>;

/** The outcome of one `(operator, claim key)` pair; `seen` is a bounded, JSON-safe summary. */
export interface ConditionCheck { operator: string; key: string; matched: boolean; seen: unknown }
/** `matched` is true only when every check matched. */
export interface ConditionResult { matched: boolean; checks: ConditionCheck[] }

type SetMode = 'single' | 'any' | 'all';
type Family = 'string' | 'like' | 'numeric' | 'bool' | 'null';

/** One compiled `(operator, claim key)` pair; build it only with {@link compileConditions}. */
export interface CompiledCondition {
  readonly operator: string;
  readonly key: string;
  readonly family: Family;
  readonly set: SetMode;
  readonly ifExists: boolean;
  /** The pair pins the claim to a value (see {@link constrainedClaims}). */
  readonly constrains: boolean;
  readonly path: ClaimPath;
  /** Matches one scalar claim value (for `Null`: the claim's absence) against every policy value. */
  readonly test: (value: unknown) => boolean;
}
export interface CompiledConditions { readonly conditions: readonly CompiledCondition[] }

const MAX_PAIRS = 50;
const MAX_VALUES = 100;
const MAX_KEY = 256;
const MAX_PATTERN = 1024;
const MAX_SEEN = 256;
const MAX_ISSUES = 100;
// A claim array longer than this fails closed rather than costing elements × values matches.
const MAX_CLAIM_ELEMENTS = 1000;
// Segments that would reach the prototype chain if a resolver ever used plain `obj[key]`.
const NUMERIC = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

type Cmp = (a: number, b: number) => boolean;
interface Spec { readonly family: Family; readonly negated: boolean; readonly ignoreCase: boolean; readonly cmp: Cmp }
const equal: Cmp = (a, b) => a === b;
const spec = (family: Family, negated = false, ignoreCase = false, cmp = equal): Spec => ({ family, negated, ignoreCase, cmp });
const numeric = (cmp: Cmp) => spec('numeric', false, false, cmp);
// A Map, not an object literal, so that `toString` or `__proto__` are never mistaken for operators.
const OPERATORS = new Map<string, Spec>([
  ['StringEquals', spec('string')], ['StringNotEquals', spec('string', true)],
  ['StringEqualsIgnoreCase', spec('string', false, true)], ['StringNotEqualsIgnoreCase', spec('string', true, true)],
  ['StringLike', spec('like')], ['StringNotLike', spec('like', true)],
  ['NumericEquals', spec('numeric')], ['NumericNotEquals', spec('numeric', true)],
  ['NumericLessThan', numeric((a, b) => a < b)], ['NumericLessThanEquals', numeric((a, b) => a <= b)],
  ['NumericGreaterThan', numeric((a, b) => a > b)], ['NumericGreaterThanEquals', numeric((a, b) => a >= b)],
  ['Bool', spec('bool')], ['Null', spec('null')],
]);

/**
 * Validates raw conditions and compiles every matcher once. An empty object is valid and matches
 * everything. Throws {@link PolicyInvalid} listing every problem, each with its path
 * (e.g. `conditions.StringLike["sub"][1]: must be a string`).
 */
export function compileConditions(raw: unknown): CompiledConditions {
  if (!isRecord(raw)) throw new PolicyInvalid(['conditions: must be an object mapping condition operators to claim keys']);
  const issues: string[] = [];
  const out: CompiledCondition[] = [];
  let pairs = 0;
  for (const operator of Object.keys(raw)) {
    const at = `conditions${prop(operator)}`;
    const parsed = parseOperator(operator);
    const block = raw[operator];
    if (typeof parsed === 'string' || !isRecord(block)) {
      issues.push(`${at}: ${typeof parsed === 'string' ? parsed : 'must be an object mapping claim keys to values'}`);
      continue;
    }
    const keys = Object.keys(block);
    // An empty block is a no-op that almost always hides a typo; refuse it rather than grant.
    if (keys.length === 0) issues.push(`${at}: must name at least one claim key`);
    pairs += keys.length;
    for (const key of keys) {
      const compiled = compilePair(operator, parsed, key, block[key], `${at}[${quote(key)}]`, issues);
      if (compiled) out.push(compiled);
    }
  }
  if (pairs > MAX_PAIRS) issues.push(`conditions: at most ${MAX_PAIRS} operator/claim-key pairs are allowed, found ${pairs}`);
  if (issues.length > MAX_ISSUES) issues.splice(MAX_ISSUES, Infinity, `… and ${issues.length - MAX_ISSUES} more issues`);
  if (issues.length > 0) throw new PolicyInvalid(issues);
  return Object.freeze({ conditions: Object.freeze(out) });
}

/**
 * Evaluates compiled conditions against verified token claims; never throws. `checks` holds one
 * entry per pair, so a refusal can be explained.
 *
 * Fail-closed deviations from AWS ("Single-valued vs multivalued context keys"):
 * - A missing claim fails every operator, negated ones (`StringNotEquals`, `StringNotLike`, …)
 *   included, where AWS evaluates negated operators to true; only the `IfExists` forms pass.
 * - `ForAllValues:` on a missing claim or an empty array is false (AWS: true) unless `IfExists`.
 * - A single-valued operator on an array claim is false: use `ForAnyValue:` / `ForAllValues:`.
 * - String operators match only string claims (no coercion of numbers, booleans or objects);
 *   `Bool` accepts `true`/`false` or the strings `"true"`/`"false"`; `Numeric*` accept numbers or
 *   decimal strings. A `null` claim is present but matches nothing.
 * - Set operators read a scalar claim as a one-element set; arrays over 1000 elements fail.
 *
 * Claim keys: a key starting with `/` is an RFC 6901 JSON Pointer; otherwise dots descend into
 * objects, longest own key first (see `resolveClaim` in claims.ts). `__proto__`, `constructor` and `prototype` never
 * resolve, and only own data properties are read.
 */
export function evaluateConditions(compiled: CompiledConditions, claims: Record<string, unknown>): ConditionResult {
  const checks = compiled.conditions.map((c) => check(c, claims));
  return { matched: checks.every((c) => c.matched), checks };
}

/**
 * Claim keys pinned by a positive, unconditional string operator (`StringEquals`,
 * `StringEqualsIgnoreCase`, `StringLike` and their `ForAnyValue:`/`ForAllValues:` forms, never
 * `IfExists`), as written in the policy. A `StringLike` with a wildcard-only pattern (`*`, `?*`)
 * does not count. Lets a caller refuse a public-issuer relationship that leaves `sub` open.
 */
export function constrainedClaims(compiled: CompiledConditions): Set<string> {
  return new Set(compiled.conditions.filter((c) => c.constrains).map((c) => c.key));
}

type Parsed = { spec: Spec; set: SetMode; ifExists: boolean };
function parseOperator(name: string): Parsed | string {
  let rest = name;
  let set: SetMode = 'single';
  const colon = name.indexOf(':');
  if (colon !== -1) {
    const prefix = name.slice(0, colon);
    if (prefix !== 'ForAnyValue' && prefix !== 'ForAllValues') return `unknown set operator "${prefix}"; use ForAnyValue: or ForAllValues:`;
    set = prefix === 'ForAnyValue' ? 'any' : 'all';
    rest = name.slice(colon + 1);
  }
  const ifExists = rest.endsWith('IfExists');
  if (ifExists) rest = rest.slice(0, -'IfExists'.length);
  const found = OPERATORS.get(rest);
  if (!found) return 'unknown condition operator';
  if (ifExists && found.family === 'null') return 'Null has no IfExists form';
  if (set !== 'single' && found.family !== 'string' && found.family !== 'like') {
    return 'set operators (ForAnyValue:, ForAllValues:) apply only to String operators';
  }
  return { spec: found, set, ifExists };
}

function compilePair(operator: string, op: Parsed, key: string, raw: unknown, at: string, issues: string[]): CompiledCondition | undefined {
  const before = issues.length;
  const path = parseKey(key, at, issues);
  const values: readonly unknown[] = Array.isArray(raw) ? raw : [raw];
  if (values.length === 0) issues.push(`${at}: must list at least one value`);
  else if (values.length > MAX_VALUES) issues.push(`${at}: must list at most ${MAX_VALUES} values, found ${values.length}`);
  else {
    // Indexed, so a hole in a sparse array is reported rather than skipped.
    for (let i = 0; i < values.length; i++) {
      const problem = valueProblem(op.spec.family, values[i]);
      if (problem) issues.push(`${Array.isArray(raw) ? `${at}[${i}]` : at}: ${problem}`);
    }
  }
  if (issues.length > before || !path) return undefined;
  const { family, negated } = op.spec;
  const literal = (p: unknown) => typeof p === 'string' && /[^*?]/.test(p);
  const constrains = !negated && !op.ifExists && (family === 'string' || (family === 'like' && values.every(literal)));
  return Object.freeze({ operator, key, family, set: op.set, ifExists: op.ifExists, constrains, path, test: buildTest(op.spec, values) });
}

function parseKey(key: string, at: string, issues: string[]): ClaimPath | undefined {
  if (key.length === 0) return void issues.push(`${at}: claim key must not be empty`);
  if (key.length > MAX_KEY) return void issues.push(`${at}: claim key must be at most ${MAX_KEY} characters`);
  const path = parseClaimPath(key);
  return typeof path === 'string' ? void issues.push(`${at}: ${path}`) : path;
}

function valueProblem(family: Family, v: unknown): string | undefined {
  switch (family) {
    case 'string':
    case 'like':
      if (typeof v !== 'string') return 'must be a string';
      if (v.length > MAX_PATTERN) return `must be at most ${MAX_PATTERN} characters`;
      // A lone surrogate would let a `u`-flag search start inside a claim's surrogate pair.
      return /\p{Cs}/u.test(v) ? 'must be well-formed Unicode (no lone surrogates)' : undefined;
    case 'numeric':
      return toNumber(v) === undefined ? 'must be a finite number or a numeric string' : undefined;
    default:
      return toBool(v) === undefined ? 'must be true or false' : undefined;
  }
}

/**
 * Case folding for the `*IgnoreCase` operators. A character folds only when its case mapping
 * round-trips, so a compatibility character never turns into the letter it imitates: the Kelvin
 * sign U+212A lower-cases to ASCII `k` and would otherwise match a policy naming `k`.
 */
function foldCase(x: string): string {
  let out = '';
  for (const c of x) {
    const lower = c.toLowerCase();
    out += lower.toUpperCase() === c.toUpperCase() ? lower : c;
  }
  return out;
}

function buildTest(s: Spec, values: readonly unknown[]): (v: unknown) => boolean {
  switch (s.family) {
    case 'string': {
      const fold = (x: string) => (s.ignoreCase ? foldCase(x) : x);
      const wanted = new Set(values.map((v) => fold(v as string)));
      return (v) => typeof v === 'string' && wanted.has(fold(v)) !== s.negated;
    }
    case 'like': {
      const matchers = values.map((v) => compileLike(v as string));
      return (v) => typeof v === 'string' && matchers.some((m) => m(v)) !== s.negated;
    }
    case 'numeric': {
      const wanted = values.map((v) => toNumber(v) as number);
      const hit = (n: number | undefined) => n !== undefined && wanted.some((w) => s.cmp(n, w)) !== s.negated;
      return (v) => hit(toNumber(v));
    }
    default: {
      // Validation guarantees every policy value is a boolean, so an unparsable claim never matches.
      const wanted = values.map(toBool);
      return (v) => wanted.includes(toBool(v));
    }
  }
}

/**
 * `StringLike`: `*` is any run of characters (possibly empty), `?` exactly one character, all else
 * literal. One RegExp `^a.*b.*c$` backtracks in O(n^k) for k stars; instead the pattern is split
 * on `*` into quantifier-free pieces (every regex metacharacter escaped, `?` as one code point),
 * each placed leftmost in turn, which is optimal when stars separate them: O(n × pattern length).
 */
function compileLike(pattern: string): (s: string) => boolean {
  const pieces = pattern.split('*').map((p) => p.replace(/[\\^$.*+()[\]{}|/]/g, '\\$&').replaceAll('?', '.'));
  const head = new RegExp(`^(?:${pieces[0]})`, 'su');
  // Without stars the head is the whole pattern; its match length is fixed, so compare it to `s`.
  if (pieces.length === 1) return (s) => head.exec(s)?.[0].length === s.length;
  const middle = pieces.slice(1, -1).map((p) => new RegExp(p, 'sug'));
  const tail = new RegExp(`(?:${pieces.at(-1)})$`, 'sug');
  return (s) => {
    let pos = head.exec(s)?.[0].length ?? -1;
    for (let i = 0; i < middle.length && pos >= 0; i++) pos = endOfMatch(middle[i] as RegExp, s, pos);
    return pos >= 0 && endOfMatch(tail, s, pos) >= 0;
  };
}

/** End index of the leftmost match of a global RegExp at or after `from`, or -1. */
function endOfMatch(re: RegExp, s: string, from: number): number {
  re.lastIndex = from;
  const m = re.exec(s);
  return m ? m.index + m[0].length : -1;
}

function check(c: CompiledCondition, claims: unknown): ConditionCheck {
  try {
    const found = resolveClaim(claims, c.path);
    return { operator: c.operator, key: c.key, matched: decide(c, found), seen: summarize(found?.value) };
  } catch {
    // Exotic claim objects (throwing proxies) are refused, never allowed to escape as errors.
    return { operator: c.operator, key: c.key, matched: false, seen: undefined };
  }
}

function decide(c: CompiledCondition, found: { value: unknown } | undefined): boolean {
  if (c.family === 'null') return c.test(found === undefined);
  if (found === undefined) return c.ifExists;
  const v = found.value;
  if (c.set === 'single') return !Array.isArray(v) && c.test(v);
  // A scalar claim under a set operator is a one-element set (e.g. `aud`, RFC 7519 §4.1.3).
  const items: readonly unknown[] = Array.isArray(v) ? v : [v];
  if (items.length > MAX_CLAIM_ELEMENTS) return false;
  if (items.length === 0) return c.set === 'all' && c.ifExists;
  // Indexed reads, so holes in a sparse array count as non-matching elements.
  for (let i = 0; i < items.length; i++) {
    const ok = c.test(items[i]);
    if (c.set === 'any' && ok) return true;
    if (c.set === 'all' && !ok) return false;
  }
  return c.set === 'all';
}

/** JSON-safe and bounded: strings cut to 256 characters, arrays to 20 elements, objects named. */
function summarize(v: unknown, nested = false): unknown {
  if (typeof v === 'string') return v.slice(0, MAX_SEEN);
  if (v === undefined || v === null || typeof v === 'number' || typeof v === 'boolean') return v;
  if (Array.isArray(v) && !nested) return v.slice(0, 20).map((e: unknown) => summarize(e, true));
  return Array.isArray(v) ? '[array]' : typeof v === 'object' ? '[object]' : `[${typeof v}]`;
}

function toNumber(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.length <= 64 && NUMERIC.test(v) ? Number(v) : NaN;
  return Number.isFinite(n) ? n : undefined;
}

function toBool(v: unknown): boolean | undefined {
  if (v === true || v === 'true') return true;
  return v === false || v === 'false' ? false : undefined;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function quote(s: string): string {
  return JSON.stringify(s.length > 64 ? `${s.slice(0, 64)}…` : s);
}

function prop(name: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(name) ? `.${name}` : `[${quote(name)}]`;
}

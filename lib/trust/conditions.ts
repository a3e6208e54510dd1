/**
 * The IAM-style condition language of trust relationships: parse → compile → check, failing
 * closed (the shape of octo-sts `trust_policy.go`, the vocabulary of AWS IAM).
 *
 * THE RULE: fedbroker may refuse where AWS IAM would grant; it never grants where AWS would refuse.
 * Every deviation from AWS below is in the refusing direction:
 * - A missing claim fails every operator, negated ones (`StringNotEquals`, `StringNotLike`, …)
 *   included, where AWS evaluates negated operators to true; only the `IfExists` forms pass.
 *   ("Condition operators" → "…IfExists condition operators"; "Single-valued vs multivalued context keys").
 * - `ForAllValues:` on a missing claim or an empty array is false (AWS: true) unless `IfExists`;
 *   `ForAnyValue:…IfExists` on a missing claim is false, as plain `ForAnyValue:` is in AWS.
 * - A single-valued operator on an array claim is false: use `ForAnyValue:` / `ForAllValues:`.
 * - String operators match only string claims (no coercion of numbers, booleans or objects);
 *   `Bool` accepts `true`/`false` or the strings `"true"`/`"false"`; `Numeric*` accept numbers or
 *   strings in plain decimal notation only (no exponent, in policy values or claims). A `null`
 *   claim is present but matches nothing. Set operators apply to the String operators only.
 * - Policy variables (`${aws:username}`, …) are refused when stored, not substituted. AWS's escapes
 *   `${*}`, `${?}`, `${$}` ("Variables and tags" → special characters) mean a literal `*`, `?`, `$`
 *   in `StringLike`/`StringNotLike`; in the other String operators, where readings of AWS differ,
 *   they are refused (`*`, `?`, `$` are literal there anyway).
 * - Claim keys are case-insensitive as in AWS ("Condition" → key names are not case-sensitive);
 *   two claims at one level that differ only in case make every check on that key fail, `Null`
 *   and `IfExists` included (see `claims.ts`).
 * - A string claim over {@link MAX_CLAIM_LENGTH} characters or an array over
 *   {@link MAX_CLAIM_ELEMENTS} elements fails every check on it; so does every check left when the
 *   per-request budget runs out (`limits.ts`).
 * - `*IgnoreCase` folds a character only when its case mapping round-trips (see `foldCase`).
 * - `Date*` read only full ISO 8601 date-times with seconds and a zone, or whole epoch seconds, and
 *   compare epoch only with epoch (`fedbroker:EpochTime`) and ISO only with ISO (`fedbroker:CurrentTime`);
 *   `IpAddress`/`NotIpAddress` refuse /0, ranges with host bits set, zone ids and IPv4-mapped IPv6
 *   (see `toInstant`, `toRange`). A claim they cannot read fails them, negated or not.
 *
 * A block is `{ "<Operator>": { "<claimKey>": value | [values] } }`. As in AWS ("Creating a
 * condition with multiple keys or values"), the values of one key are ORed (NORed for negated
 * operators), the keys of one operator are ANDed and the operators are ANDed. Claim keys: a key
 * starting with `/` is an RFC 6901 JSON Pointer; otherwise dots descend into objects, longest own
 * key first (`resolveClaim` in claims.ts). `__proto__`, `constructor` and `prototype` never
 * resolve, and only own data properties are read.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { PolicyInvalid } from '../errors.ts';
import { parseClaimPath, type ClaimPath } from './claims.ts';
import {
  charge,
  MAX_PAIRS_PER_RELATIONSHIP,
  MAX_PATTERN_LENGTH,
  MAX_VALUES_PER_PAIR,
  MAX_VALUES_PER_RELATIONSHIP,
  type Budget,
} from './limits.ts';
import { compileWildcards, literalPrefix, policyVariableProblem } from './wildcard.ts';

type SetMode = 'single' | 'any' | 'all';
type Family = 'string' | 'like' | 'numeric' | 'bool' | 'null' | 'date' | 'ip';

/** What a string value pins: the literal text it starts with, and whether that is all of it. */
export interface Pin {
  readonly prefix: string;
  readonly exact: boolean;
}

/** One compiled `(operator, claim key)` pair; build it only with {@link compileConditions}. */
export interface CompiledCondition {
  readonly operator: string;
  readonly key: string;
  readonly family: Family;
  readonly set: SetMode;
  readonly ifExists: boolean;
  readonly negated: boolean;
  readonly ignoreCase: boolean;
  readonly path: ClaimPath;
  /** For the String operators: what each value pins (the public-issuer guard reads it). */
  readonly pins: readonly Pin[];
  /**
   * Matches one scalar claim value (for `Null`: the claim's absence) against every policy value,
   * charging its steps to `budget` (it throws `BudgetExhausted` when that runs out).
   */
  readonly test: (value: unknown, budget?: Budget) => boolean;
}
export interface CompiledConditions {
  readonly conditions: readonly CompiledCondition[];
}

const MAX_KEY = 256;
const MAX_ISSUES = 100;
// Plain decimal notation only: an optional `-`, digits, an optional fraction (no `+`, no bare `.5`
// or `5.`, no exponent). AWS documents no exponent form and readers disagree on one: a parser that
// stops at `e` reads "1e3" as 1 (iam-simulate's parseInt does). A policy value in another form is
// refused when stored; a claim in another form matches no Numeric operator, negated ones included.
const NUMERIC = /^-?\d+(?:\.\d+)?$/;

type Cmp = (a: number, b: number) => boolean;
interface Spec {
  readonly family: Family;
  readonly negated: boolean;
  readonly ignoreCase: boolean;
  readonly cmp: Cmp;
}
const equal: Cmp = (a, b) => a === b;
const spec = (family: Family, negated = false, ignoreCase = false, cmp = equal): Spec => ({ family, negated, ignoreCase, cmp });
const numeric = (cmp: Cmp) => spec('numeric', false, false, cmp);
const date = (cmp: Cmp) => spec('date', false, false, cmp);
// A Map, not an object literal, so that `toString` or `__proto__` are never mistaken for operators.
const OPERATORS = new Map<string, Spec>([
  ['StringEquals', spec('string')],
  ['StringNotEquals', spec('string', true)],
  ['StringEqualsIgnoreCase', spec('string', false, true)],
  ['StringNotEqualsIgnoreCase', spec('string', true, true)],
  ['StringLike', spec('like')],
  ['StringNotLike', spec('like', true)],
  ['NumericEquals', spec('numeric')],
  ['NumericNotEquals', spec('numeric', true)],
  ['NumericLessThan', numeric((a, b) => a < b)],
  ['NumericLessThanEquals', numeric((a, b) => a <= b)],
  ['NumericGreaterThan', numeric((a, b) => a > b)],
  ['NumericGreaterThanEquals', numeric((a, b) => a >= b)],
  ['Bool', spec('bool')],
  ['Null', spec('null')],
  // IAM User Guide, "Condition operators" → "Date condition operators", "IP address condition operators".
  ['DateEquals', spec('date')],
  ['DateNotEquals', spec('date', true)],
  ['DateLessThan', date((a, b) => a < b)],
  ['DateLessThanEquals', date((a, b) => a <= b)],
  ['DateGreaterThan', date((a, b) => a > b)],
  ['DateGreaterThanEquals', date((a, b) => a >= b)],
  ['IpAddress', spec('ip')],
  ['NotIpAddress', spec('ip', true)],
]);

/**
 * Validates raw conditions and compiles every matcher once. An empty object is valid and matches
 * everything. Throws {@link PolicyInvalid} listing every problem, each with its path
 * (e.g. `conditions.StringLike["sub"][1]: must be a string`). The caps of `limits.ts` are refused here.
 */
export function compileConditions(raw: unknown): CompiledConditions {
  if (!isRecord(raw)) throw new PolicyInvalid(['conditions: must be an object mapping condition operators to claim keys']);
  const issues: string[] = [];
  const out: CompiledCondition[] = [];
  let pairs = 0;
  let values = 0;
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
      const value = block[key];
      values += Array.isArray(value) ? value.length : 1;
      const compiled = compilePair(operator, parsed, key, value, `${at}[${quote(key)}]`, issues);
      if (compiled) out.push(compiled);
    }
  }
  if (pairs > MAX_PAIRS_PER_RELATIONSHIP)
    issues.push(`conditions: at most ${MAX_PAIRS_PER_RELATIONSHIP} operator/claim-key pairs are allowed, found ${pairs}`);
  if (values > MAX_VALUES_PER_RELATIONSHIP)
    issues.push(`conditions: at most ${MAX_VALUES_PER_RELATIONSHIP} values over all operator/claim-key pairs are allowed, found ${values}`);
  if (issues.length > MAX_ISSUES) issues.splice(MAX_ISSUES, Infinity, `… and ${issues.length - MAX_ISSUES} more issues`);
  if (issues.length > 0) throw new PolicyInvalid(issues);
  return Object.freeze({ conditions: Object.freeze(out) });
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
  else if (values.length > MAX_VALUES_PER_PAIR)
    issues.push(`${at}: must list at most ${MAX_VALUES_PER_PAIR} values, found ${values.length}`);
  else {
    // Indexed, so a hole in a sparse array is reported rather than skipped.
    for (let i = 0; i < values.length; i++) {
      const problem = valueProblem(op.spec.family, values[i]);
      if (problem) issues.push(`${Array.isArray(raw) ? `${at}[${i}]` : at}: ${problem}`);
    }
  }
  if (issues.length > before || !path) return undefined;
  const { family, negated, ignoreCase } = op.spec;
  const strings = family === 'string' || family === 'like' ? (values as string[]) : [];
  const pins = strings.map((v): Pin => {
    if (family === 'string') return { prefix: v, exact: true };
    const { prefix, wildcard } = literalPrefix(v);
    return { prefix, exact: !wildcard };
  });
  const test = buildTest(op.spec, values);
  return Object.freeze({
    operator,
    key,
    family,
    set: op.set,
    ifExists: op.ifExists,
    negated,
    ignoreCase,
    path,
    pins: Object.freeze(pins),
    test,
  });
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
      if (v.length > MAX_PATTERN_LENGTH) return `must be at most ${MAX_PATTERN_LENGTH} characters`;
      // A lone surrogate would be matched against half of a claim's surrogate pair.
      if (/\p{Cs}/u.test(v)) return 'must be well-formed Unicode (no lone surrogates)';
      // AWS documents `${*}`, `${?}`, `${$}` for any string that takes policy variables, an
      // independent evaluator (iam-simulate) reads them literally in StringEquals: where the two
      // readings differ, either could grant what AWS refuses, so outside StringLike they are refused.
      if (family === 'string' && policyVariableProblem(v) === undefined && v.includes('${')) {
        return (
          'must not contain ${*}, ${?} or ${$} outside StringLike/StringNotLike ' +
          '(here * ? $ are already literal: write them as they are)'
        );
      }
      return policyVariableProblem(v);
    case 'numeric':
      return toNumber(v) === undefined
        ? 'must be a finite number or a numeric string in plain decimal notation (no exponent), at most 15 significant digits'
        : undefined;
    case 'date':
      return toInstant(v) === undefined
        ? 'must be an ISO 8601 date-time with seconds and a zone (2026-12-07T18:00:00Z, …+01:00) or epoch seconds'
        : undefined;
    case 'ip':
      return toRange(v) === undefined
        ? 'must be an IPv4 or IPv6 CIDR range (203.0.113.7/32, 2001:db8::1/128 for one address), no host bits set, not /0'
        : undefined;
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
    // Astral characters (e.g. Deseret 𐐀/𐐨) are compared exactly: an evaluator working in UTF-16
    // units would not fold them, and folding more than AWS would grant where it refuses.
    if (c.length > 1) {
      out += c;
      continue;
    }
    const lower = c.toLowerCase();
    out += lower.toUpperCase() === c.toUpperCase() ? lower : c;
  }
  return out;
}

/** True when `s` holds a surrogate pair (a character outside the Basic Multilingual Plane); no RegExp sees claim data. */
function hasAstral(s: string): boolean {
  for (let i = 0; i + 1 < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) return true;
    }
  }
  return false;
}

/**
 * A claim string folded once per request and charged by its length (one step per 4 code units):
 * folding is the costly part of `*IgnoreCase`, and many pairs may read the same claim.
 */
function foldedOnce(v: string, budget: Budget | undefined, fold: (x: string) => string): string {
  const key = fold === foldCase ? v : `\u0000${v}`;
  const hit = budget?.folded?.get(key);
  if (hit !== undefined) return hit;
  charge(budget, v.length >> 2);
  const folded = fold(v);
  if (budget) {
    budget.folded ??= new Map();
    budget.folded.set(key, folded);
  }
  return folded;
}

/** The widest case fold: every character, astral ones included, upper- then lower-cased. */
function wideFold(x: string): string {
  let out = '';
  for (const c of x) out += c.toUpperCase().toLowerCase();
  return out;
}

function buildTest(s: Spec, values: readonly unknown[]): (v: unknown, budget?: Budget) => boolean {
  switch (s.family) {
    case 'string': {
      // Validation refused `${` here, so every value is literal text.
      const wanted = new Set(values.map((v) => (s.ignoreCase ? foldCase(v as string) : (v as string))));
      if (!s.ignoreCase) {
        return (v, budget) => {
          charge(budget, 1);
          return typeof v === 'string' && wanted.has(v) !== s.negated;
        };
      }
      if (!s.negated) {
        return (v, budget) => {
          charge(budget, 1);
          return typeof v === 'string' && wanted.has(foldedOnce(v, budget, foldCase));
        };
      }
      // Negated: "not equal" must hold under every reading of "ignoring case", the widest included
      // (each character upper- then lower-cased, astral ones too, as Java's equalsIgnoreCase
      // does), or a claim AWS folds onto a forbidden value would pass here.
      const wide = new Set(values.map((v) => wideFold(v as string)));
      return (v, budget) => {
        charge(budget, 1);
        return typeof v === 'string' && !wanted.has(foldedOnce(v, budget, foldCase)) && !wide.has(foldedOnce(v, budget, wideFold));
      };
    }
    case 'like': {
      const matcher = compileWildcards(values as string[]);
      // `?` is one character: one code point here, one UTF-16 unit in an independent evaluator.
      // The two readings part only over astral characters (surrogate pairs), so there a `?`
      // pattern matches nothing, negated or not: fail closed whichever reading AWS takes.
      const question = (values as string[]).some((p) => p.replaceAll('${?}', '').includes('?'));
      return (v, budget) => typeof v === 'string' && !(question && hasAstral(v)) && matcher.test(v, budget) !== s.negated;
    }
    case 'numeric': {
      const wanted = values.map((v) => toNumber(v) as number);
      const hit = (n: number | undefined) => n !== undefined && wanted.some((w) => s.cmp(n, w)) !== s.negated;
      return (v, budget) => {
        charge(budget, 1);
        return hit(toNumber(v));
      };
    }
    case 'date': {
      // Epoch values compare only with epoch claims and ISO values with ISO claims: evaluators
      // differ on how they read an epoch number against a date-time (seconds, milliseconds), so a
      // mixed comparison is one no reading may grant on. An unreadable claim fails, negated or not.
      const wanted = values.map((v) => ({ t: toInstant(v) as number, epoch: isEpoch(v) }));
      return (v, budget) => {
        charge(budget, 1);
        const t = toInstant(v);
        if (t === undefined || wanted.some((w) => w.epoch !== isEpoch(v))) return false;
        return wanted.some((w) => s.cmp(t, w.t)) !== s.negated;
      };
    }
    case 'ip': {
      const ranges = values.map((v) => toRange(v) as IpRange);
      return (v, budget) => {
        charge(budget, 1);
        const addr = typeof v === 'string' && !v.includes('/') ? toRange(v, false) : undefined;
        return addr !== undefined && ranges.some((r) => inRange(addr, r)) !== s.negated;
      };
    }
    case 'null': {
      const wanted = values.map(toBool);
      return (absent, budget) => {
        charge(budget, 1);
        return wanted.includes(toBool(absent));
      };
    }
    default: {
      // Validation guarantees every policy value is a boolean, so an unparsable claim never matches.
      const wanted = values.map(toBool);
      return (v, budget) => {
        charge(budget, 1);
        return wanted.includes(toBool(v));
      };
    }
  }
}

function toNumber(v: unknown): number | undefined {
  // A JSON number is read as its decimal text, so 1e21 (text "1e+21") is refused like "1e21".
  const text = typeof v === 'number' ? String(v) : v;
  if (typeof text !== 'string' || text.length > 64 || !NUMERIC.test(text) || significantDigits(text) > MAX_DIGITS) return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}

/**
 * A double holds 15 significant decimal digits exactly. Past that, two different numbers compare
 * equal (`9007199254740993` = `9007199254740992`) in fedbroker and in an evaluator that uses
 * doubles, while AWS's own comparison is undocumented: such numbers are refused in policies and
 * match nothing as claims, whichever way AWS reads them.
 */
const MAX_DIGITS = 15;
function significantDigits(text: string): number {
  const [whole = '', fraction = ''] = text.replace('-', '').split('.');
  return `${whole}${fraction.replace(/0+$/, '')}`.replace(/^0+/, '').length;
}

/**
 * A date as epoch milliseconds. AWS takes "W3C implementations of ISO 8601" or epoch time; so that
 * no value means one instant here and another there, only the unambiguous forms are read: a full
 * date-time with seconds and an explicit zone (`Z` or `±hh:mm`), or whole epoch seconds. Date-only
 * and zone-less forms are refused in policies and match nothing as claims.
 */
const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const MAX_EPOCH_SECONDS = 253_402_300_799; // 9999-12-31T23:59:59Z
const isEpoch = (v: unknown) => typeof v === 'number' || (typeof v === 'string' && /^\d{1,12}$/.test(v));
function toInstant(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 && v <= MAX_EPOCH_SECONDS ? v * 1000 : undefined;
  if (typeof v !== 'string' || v.length > 40) return undefined;
  if (/^\d{1,12}$/.test(v)) return toInstant(Number(v));
  const m = ISO_INSTANT.exec(v);
  if (!m) return undefined;
  const [y, mo, d, h, mi, sec] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const probe = new Date(Date.UTC(y, mo - 1, d, h, mi, sec));
  if (probe.getUTCFullYear() !== y || probe.getUTCMonth() !== mo - 1 || probe.getUTCDate() !== d || h > 23 || mi > 59 || sec > 59) {
    return undefined;
  }
  const zone = m[7] as string;
  if (zone !== 'Z' && (Number(zone.slice(1, 3)) > 23 || Number(zone.slice(4, 6)) > 59)) return undefined;
  const ms = Date.parse(v);
  return Number.isFinite(ms) ? ms : undefined;
}

interface IpRange {
  readonly v6: boolean;
  readonly base: bigint;
  readonly bits: number;
}

/**
 * An address or CIDR range (RFC 4632, RFC 4291 §2.3). Refused, so that no reading differs from
 * AWS's: host bits set under the prefix, zone ids, IPv4-mapped IPv6 (`::ffff:a.b.c.d`, which an
 * evaluator may or may not match against IPv4 ranges), leading zeros in IPv4 octets, /0, and
 * (in policies) an address without its prefix length.
 */
function toRange(v: unknown, policy = true): IpRange | undefined {
  if (typeof v !== 'string' || v.length > 64) return undefined;
  const slash = v.indexOf('/');
  const addr = slash === -1 ? v : v.slice(0, slash);
  const v6 = isIPv6(addr) && !addr.includes('%') && !addr.includes('.');
  if (!v6 && !isIPv4(addr)) return undefined;
  const width = v6 ? 128 : 32;
  let bits = width;
  if (slash !== -1) {
    const len = v.slice(slash + 1);
    // A /0 range is every address: evaluators disagree on it, and it is no condition at all.
    if (!/^\d{1,3}$/.test(len) || Number(len) > width || Number(len) === 0) return undefined;
    bits = Number(len);
  }
  // In a policy, a value carries its prefix length (`/32`, `/128` for one address): evaluators
  // disagree on a bare address under NotIpAddress when the claim is of the other family.
  if (policy && slash === -1) return undefined;
  const base = v6 ? ipv6Value(addr) : addr.split('.').reduce((n, o) => (n << 8n) | BigInt(o), 0n);
  if (base === undefined) return undefined;
  if (v6 && base >> 32n === 0xffffn) return undefined;
  const hostMask = (1n << BigInt(width - bits)) - 1n;
  if ((base & hostMask) !== 0n) return undefined;
  return { v6, base, bits };
}

function ipv6Value(addr: string): bigint | undefined {
  const [head = '', tail, extra] = addr.split('::');
  if (extra !== undefined) return undefined;
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const missing = 8 - left.length - right.length;
  if (tail === undefined ? missing !== 0 : missing < 1) return undefined;
  const groups = [...left, ...Array(missing).fill('0'), ...right];
  return groups.reduce((n, g) => (n << 16n) | BigInt(`0x${g}`), 0n);
}

function inRange(addr: IpRange, range: IpRange): boolean {
  if (addr.v6 !== range.v6) return false;
  const shift = BigInt((range.v6 ? 128 : 32) - range.bits);
  return addr.base >> shift === range.base >> shift;
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

import { charge, MAX_KEY_SEGMENTS, MAX_POINTER_SEGMENTS, type Budget } from './limits.ts';

/** A parsed claim key: a dotted path or an RFC 6901 JSON Pointer. */
export interface ClaimPath {
  readonly pointer: boolean;
  readonly parts: readonly string[];
}

const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Parses a claim key: a JSON Pointer (RFC 6901) when it starts with `/`, otherwise a dotted path.
 * Returns a problem description instead of a path when the key is unusable.
 */
export function parseClaimPath(key: string): ClaimPath | string {
  const known = interned.get(key);
  if (known) return known;
  let path: ClaimPath;
  if (!key.startsWith('/')) {
    path = { pointer: false, parts: key.split('.') };
    if (path.parts.length > MAX_KEY_SEGMENTS)
      return `a dotted claim key has at most ${MAX_KEY_SEGMENTS} segments (use a JSON Pointer for deeper claims)`;
  } else {
    // RFC 6901 §3-4: only ~0 and ~1 are escapes; ~1 is decoded before ~0 so "~01" means "~1".
    if (/~(?![01])/.test(key)) return 'invalid JSON Pointer escape (only ~0 and ~1 are allowed)';
    path = {
      pointer: true,
      parts: key
        .slice(1)
        .split('/')
        .map((t) => t.replaceAll('~1', '/').replaceAll('~0', '~')),
    };
    if (path.parts.length > MAX_POINTER_SEGMENTS) return `a JSON Pointer claim key has at most ${MAX_POINTER_SEGMENTS} reference tokens`;
  }
  // One object per key text, so that every relationship naming the same key shares one
  // resolution per token (see `resolved` below). Bounded: dropped wholesale when full.
  if (interned.size >= MAX_INTERNED) interned.clear();
  interned.set(key, Object.freeze(path));
  return path;
}

const MAX_INTERNED = 20_000;
const interned = new Map<string, ClaimPath>();

/** Two claims at one level differ only in case: which one a key means is ambiguous. */
export const AMBIGUOUS = Symbol('ambiguous claim key');
export type Resolved = { value: unknown } | undefined | typeof AMBIGUOUS;

/**
 * Claim keys are case-insensitive, as AWS condition key names are (IAM User Guide, "IAM JSON
 * policy elements: Condition" → "Condition key names are not case-sensitive"). How far AWS folds
 * beyond ASCII is not documented, so both readings are covered: names are indexed by a broad fold
 * (`ſ`, `K` (Kelvin) and `ß` meet `s`, `k`, `ss`), and a hit counts only when it also equals the key
 * under ASCII folding; any other hit, or two own names under one fold, is {@link AMBIGUOUS} and the
 * check fails closed. So a key fedbroker treats as missing is missing under either reading.
 */
const broad = (name: string) => name.toUpperCase().toLowerCase();
/** ASCII letters lower-cased, everything else kept: a loop, not a RegExp, on the per-request path. */
function ascii(name: string): string {
  let out = '';
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    out += c >= 65 && c <= 90 ? String.fromCharCode(c | 0x20) : name[i];
  }
  return out;
}
/** The longest forbidden name: anything longer cannot be one, whatever its case. */
const FORBIDDEN_MAX = 11;

/** Own names by broad fold, and which dot counts occur among them (a dotted key only tries runs that could exist). */
type Index = Map<string, string | typeof AMBIGUOUS> & { dots?: Set<number> };
// Built once per claims object (claims are never mutated after verification): a lookup is one fold.
const indexes = new WeakMap<object, Index>();

function indexOf(obj: object): Index {
  let index = indexes.get(obj);
  if (index) return index;
  index = new Map() as Index;
  const dots = new Set<number>();
  for (const name of Object.getOwnPropertyNames(obj)) {
    const folded = broad(name);
    index.set(folded, index.has(folded) ? AMBIGUOUS : name);
    let n = 0;
    for (let i = name.indexOf('.'); i !== -1; i = name.indexOf('.', i + 1)) n++;
    dots.add(n);
  }
  index.dots = dots;
  indexes.set(obj, index);
  return index;
}

/** An own data property, never an inherited one and never a getter call. */
function own(obj: object, name: string): { value: unknown } | undefined {
  if (FORBIDDEN.has(name) || !Object.hasOwn(obj, name)) return undefined;
  const d = Object.getOwnPropertyDescriptor(obj, name);
  return d && 'value' in d && d.value !== undefined ? { value: d.value } : undefined;
}

/** The own data property whose name equals `key` ignoring case, as explained above. */
function ownIgnoringCase(obj: unknown, key: string): Resolved {
  if (obj === null || typeof obj !== 'object') return undefined;
  if (Array.isArray(obj)) return /^(?:0|[1-9]\d*)$/.test(key) ? own(obj, key) : undefined;
  const folded = broad(key);
  // A forbidden name never resolves, whatever its case (`__PROTO__` is not a way around it).
  if (key.length <= FORBIDDEN_MAX && (FORBIDDEN.has(folded) || FORBIDDEN.has(ascii(key)))) return undefined;
  const name = indexOf(obj).get(folded);
  if (name === undefined) return undefined;
  if (name === AMBIGUOUS || ascii(name) !== ascii(key)) return AMBIGUOUS;
  return own(obj, name);
}

/**
 * Resolves a claim. JSON Pointer keys walk objects and array indices (RFC 6901). Dotted keys walk
 * objects only and at each level take the longest run of segments that is an own key, without
 * backtracking (claims are attacker-supplied, so cost stays bounded): `kubernetes.io.namespace`
 * reads `claims["kubernetes.io"].namespace` before `claims.kubernetes.io.namespace`. Every level
 * ignores case; an ambiguous level makes the whole key {@link AMBIGUOUS}.
 */
export function resolveClaim(claims: unknown, path: ClaimPath, budget?: Budget): Resolved {
  // Claims objects are never mutated after verification: one resolution per key and token, however
  // many relationships name the key.
  const memo = claims !== null && typeof claims === 'object' ? (resolved.get(claims) ?? new Map<ClaimPath, Resolved>()) : undefined;
  if (memo?.has(path)) return memo.get(path);
  const found = walk(claims, path, budget);
  if (memo) {
    if (memo.size === 0) resolved.set(claims as object, memo);
    memo.set(path, found);
  }
  return found;
}

const resolved = new WeakMap<object, Map<ClaimPath, Resolved>>();

/**
 * Steps charged for looking up one name (a run of dotted segments, or a pointer token): joining,
 * folding and hashing it cost far more per character than a matcher step, so four steps per
 * character (measured against the matcher's steps; see threat model I3).
 */
export const lookupSteps = (name: string): number => 8 + 4 * name.length;

function walk(claims: unknown, path: ClaimPath, budget: Budget | undefined): Resolved {
  let cur: Resolved = { value: claims };
  const { parts } = path;
  for (let i = 0; i < parts.length && cur; ) {
    if (cur === AMBIGUOUS) return AMBIGUOUS;
    const obj: unknown = cur.value;
    if (path.pointer) {
      const token = parts[i++] as string;
      charge(budget, lookupSteps(token));
      cur = ownIgnoringCase(obj, token);
      continue;
    }
    if (Array.isArray(obj)) return undefined;
    let j = parts.length;
    cur = undefined;
    // Only runs whose dot count some own name has can match; each run tried is joined, folded and
    // looked up, charged by its length (four steps per character: measured against the matcher's
    // steps, see bench/worst-case.ts).
    const dots = obj !== null && typeof obj === 'object' ? indexOf(obj).dots : undefined;
    while (j > i) {
      if (!dots || dots.has(j - i - 1)) {
        const name = parts.slice(i, j).join('.');
        charge(budget, lookupSteps(name));
        cur = ownIgnoringCase(obj, name);
        if (cur) break;
      }
      j--;
    }
    i = j;
  }
  return cur;
}

/** The value of a claim by key (dotted path or JSON Pointer), or undefined (also when ambiguous). */
export function readClaim(claims: unknown, key: string): unknown {
  const path = parseClaimPath(key);
  if (typeof path === 'string') return undefined;
  const found = resolveClaim(claims, path);
  return found === AMBIGUOUS ? undefined : found?.value;
}

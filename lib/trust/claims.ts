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
  if (!key.startsWith('/')) return { pointer: false, parts: key.split('.') };
  // RFC 6901 §3-4: only ~0 and ~1 are escapes; ~1 is decoded before ~0 so "~01" means "~1".
  if (/~(?![01])/.test(key)) return 'invalid JSON Pointer escape (only ~0 and ~1 are allowed)';
  return { pointer: true, parts: key.slice(1).split('/').map((t) => t.replaceAll('~1', '/').replaceAll('~0', '~')) };
}

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
const ascii = (name: string) => name.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) | 0x20));

type Index = Map<string, string | typeof AMBIGUOUS>;
// Built once per claims object (claims are never mutated after verification): a lookup is one fold.
const indexes = new WeakMap<object, Index>();

function indexOf(obj: object): Index {
  let index = indexes.get(obj);
  if (index) return index;
  index = new Map();
  for (const name of Object.getOwnPropertyNames(obj)) {
    const folded = broad(name);
    index.set(folded, index.has(folded) ? AMBIGUOUS : name);
  }
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
  if (FORBIDDEN.has(folded) || FORBIDDEN.has(ascii(key))) return undefined;
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
export function resolveClaim(claims: unknown, path: ClaimPath): Resolved {
  let cur: Resolved = { value: claims };
  const { parts } = path;
  for (let i = 0; i < parts.length && cur; ) {
    if (cur === AMBIGUOUS) return AMBIGUOUS;
    const obj: unknown = cur.value;
    if (path.pointer) {
      cur = ownIgnoringCase(obj, parts[i++] as string);
      continue;
    }
    if (Array.isArray(obj)) return undefined;
    let j = parts.length;
    cur = undefined;
    while (j > i && !(cur = ownIgnoringCase(obj, parts.slice(i, j).join('.')))) j--;
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

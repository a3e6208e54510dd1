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

/** An own data property, never an inherited one and never a getter call. */
function own(obj: unknown, name: string): { value: unknown } | undefined {
  if (obj === null || typeof obj !== 'object' || FORBIDDEN.has(name) || !Object.hasOwn(obj, name)) return undefined;
  const d = Object.getOwnPropertyDescriptor(obj, name);
  return d && 'value' in d && d.value !== undefined ? { value: d.value } : undefined;
}

/**
 * Resolves a claim. JSON Pointer keys walk objects and array indices (RFC 6901). Dotted keys walk
 * objects only and at each level take the longest run of segments that is an own key, without
 * backtracking (claims are attacker-supplied, so cost stays bounded): `kubernetes.io.namespace`
 * reads `claims["kubernetes.io"].namespace` before `claims.kubernetes.io.namespace`.
 */
export function resolveClaim(claims: unknown, path: ClaimPath): { value: unknown } | undefined {
  let cur: { value: unknown } | undefined = { value: claims };
  const { parts } = path;
  for (let i = 0; i < parts.length && cur; ) {
    const obj: unknown = cur.value;
    if (path.pointer) {
      const token = parts[i++] as string;
      cur = Array.isArray(obj) && !/^(?:0|[1-9]\d*)$/.test(token) ? undefined : own(obj, token);
      continue;
    }
    if (Array.isArray(obj)) return undefined;
    let j = parts.length;
    cur = undefined;
    while (j > i && !(cur = own(obj, parts.slice(i, j).join('.')))) j--;
    i = j;
  }
  return cur;
}

/** The value of a claim by key (dotted path or JSON Pointer), or undefined. */
export function readClaim(claims: unknown, key: string): unknown {
  const path = parseClaimPath(key);
  return typeof path === 'string' ? undefined : resolveClaim(claims, path)?.value;
}

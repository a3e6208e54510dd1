/**
 * Reads a claim by path: a JSON Pointer (RFC 6901) when it starts with `/`, otherwise a dotted
 * path where, at each level, the longest literal key that exists wins (greedily) — so
 * `kubernetes.io.namespace` finds `claims["kubernetes.io"].namespace`. Own properties only:
 * `__proto__`, `constructor` and `prototype` never resolve.
 */
export function readClaim(claims: unknown, path: string): unknown {
  if (path.startsWith('/')) {
    const segments = path
      .slice(1)
      .split('/')
      .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
    return segments.reduce<unknown>((node, key) => own(node, key), claims);
  }
  return dotted(claims, path.split('.'), 0);
}

const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);

function own(node: unknown, key: string): unknown {
  if (node === null || typeof node !== 'object' || Array.isArray(node) || FORBIDDEN.has(key)) return undefined;
  return Object.hasOwn(node, key) ? (node as Record<string, unknown>)[key] : undefined;
}

function dotted(node: unknown, parts: string[], from: number): unknown {
  // Greedy, no backtracking: claims are attacker-supplied, so lookup cost stays O(parts²).
  let current = node;
  let at = from;
  while (at < parts.length) {
    let to = parts.length;
    let next: unknown;
    for (; to > at; to--) {
      next = own(current, parts.slice(at, to).join('.'));
      if (next !== undefined) break;
    }
    if (to === at) return undefined;
    current = next;
    at = to;
  }
  return current;
}

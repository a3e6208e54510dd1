/** Deepest nesting of objects and arrays accepted in a token's header or payload, or a request body. */
export const MAX_JSON_DEPTH = 32;

/** Something `JSON.parse` accepts that fedbroker refuses. */
export type JsonShapeIssue = { kind: 'duplicate'; member: string } | { kind: 'depth'; maxDepth: number };

/**
 * Checks `json` (text that `JSON.parse` has already accepted) for what fedbroker refuses although
 * JSON allows it, in one pass:
 *
 * - a member name that occurs twice in one object, at any depth. RFC 8259 §4 only says names
 *   SHOULD be unique and leaves duplicates to the parser: `JSON.parse` keeps the last, other
 *   parsers the first or fail. A policy with two `conditions` (or a token with two `iss`) would
 *   mean one thing to its reviewer, or another component, and another to the broker (RFC 7515
 *   §5.2 and RFC 8725 §3.11 let us refuse).
 * - nesting deeper than `maxDepth`. No real token or document comes near it, and values nested
 *   thousands deep make `JSON.stringify` and `structuredClone` throw (RangeError), so a claim
 *   carried into a log line or a copy later would turn a refusal into a 500 (fail closed).
 *
 * Iterative, so nesting costs heap, not stack; the scan stops at the first issue.
 */
export function jsonShapeIssue(json: string, maxDepth = MAX_JSON_DEPTH): JsonShapeIssue | undefined {
  // One entry per open container: the names seen so far in an object, undefined for an array.
  const open: (Set<string> | undefined)[] = [];
  let expectName = false;
  for (let i = 0; i < json.length; i++) {
    const c = json[i];
    if (c === '"') {
      let end = i + 1;
      while (json[end] !== '"') end += json[end] === '\\' ? 2 : 1;
      if (expectName) {
        // Decoded, so "a" and "\u0061" are the same name, as every parser reads them.
        const name = JSON.parse(json.slice(i, end + 1)) as string;
        const names = open[open.length - 1]!;
        if (names.has(name)) return { kind: 'duplicate', member: name };
        names.add(name);
        expectName = false;
      }
      i = end;
    } else if (c === '{' || c === '[') {
      if (open.length === maxDepth) return { kind: 'depth', maxDepth };
      open.push(c === '{' ? new Set() : undefined);
      expectName = c === '{';
    } else if (c === '}' || c === ']') {
      open.pop();
      expectName = false;
    } else if (c === ',') {
      expectName = open[open.length - 1] !== undefined;
    }
  }
  return undefined;
}

/** A one-line, log-safe description of `issue`; `what` names the JSON (e.g. "request body"). */
export function describeJsonShapeIssue(what: string, issue: JsonShapeIssue): string {
  return issue.kind === 'duplicate'
    ? `${what} repeats the member ${JSON.stringify(issue.member.slice(0, 64))} within one object`
    : `${what} is nested deeper than ${issue.maxDepth} levels`;
}

/**
 * The first member name that occurs twice in one object, at any depth, of `json` (text that
 * `JSON.parse` has already accepted), or undefined when there is none.
 *
 * RFC 8259 §4 only says names SHOULD be unique and leaves duplicates to the parser: `JSON.parse`
 * keeps the last, other parsers the first or fail. A policy document with two `conditions` (or
 * two `StringEquals`) would then mean one thing to whoever reviewed the file and another to the
 * broker, so documents with duplicates are refused rather than read either way (fail closed).
 * A single pass over the text with one set of names per open object; iterative, so nesting depth
 * costs heap, not stack.
 */
export function duplicateMember(json: string): string | undefined {
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
        if (names.has(name)) return name;
        names.add(name);
        expectName = false;
      }
      i = end;
    } else if (c === '{') {
      open.push(new Set());
      expectName = true;
    } else if (c === '[') {
      open.push(undefined);
      expectName = false;
    } else if (c === '}' || c === ']') {
      open.pop();
      expectName = false;
    } else if (c === ',') {
      expectName = open[open.length - 1] !== undefined;
    }
  }
  return undefined;
}

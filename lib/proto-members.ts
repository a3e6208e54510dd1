/**
 * True when any object in `value` has an own `__proto__` member. JSON.parse creates them, but
 * object-building code downstream (zod's record parsing, spreads) drops them: a condition block
 * written under `__proto__` would vanish and leave a relationship matching more than was written.
 * Iterative, so a deeply nested value cannot exhaust the stack.
 */
export function hasProtoMember(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (v === null || typeof v !== 'object') continue;
    if (Object.hasOwn(v, '__proto__')) return true;
    for (const child of Object.values(v)) stack.push(child);
  }
  return false;
}

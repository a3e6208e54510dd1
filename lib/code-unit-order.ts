/**
 * Orders strings by their UTF-16 code units, the order of `<` on strings (ECMA-262 §7.2.13
 * IsLessThan) and of `Array.prototype.sort` without a comparator.
 *
 * Not `String.prototype.localeCompare`: its first call builds an ICU collator, 7–12 ms of a cold
 * start (`npm run bench`, cold start rows), and its order depends on the runtime's ICU data and
 * default locale, which a deployment does not choose. Ids (`[a-z0-9][a-z0-9-]*`) sort the same
 * either way (test/unit/code-unit-order.test.ts), so which relationships the per-tenant cap keeps
 * is unchanged.
 */
export function codeUnitOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** {@link codeUnitOrder} of two documents' ids. */
export const byId = (a: { readonly id: string }, b: { readonly id: string }): number => codeUnitOrder(a.id, b.id);

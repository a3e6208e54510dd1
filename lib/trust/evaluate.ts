/**
 * Evaluation of compiled conditions against verified token claims (the check step of
 * conditions.ts, whose header lists how and why it refuses where AWS IAM would grant).
 */
import { AMBIGUOUS, resolveClaim } from './claims.ts';
import type { CompiledCondition, CompiledConditions } from './conditions.ts';
import { BudgetExhausted, MAX_CLAIM_ELEMENTS, MAX_CLAIM_LENGTH, type Budget } from './limits.ts';

/** The outcome of one `(operator, claim key)` pair; `seen` is a bounded, JSON-safe summary. */
interface ConditionCheck {
  operator: string;
  key: string;
  matched: boolean;
  seen: unknown;
}
/** `matched` is true only when every check matched. */
export interface ConditionResult {
  matched: boolean;
  checks: ConditionCheck[];
}
/** `all` evaluates every check (`:explain`); `first-failure` stops at the first one that fails (the exchange). */
export type EvaluationMode = 'all' | 'first-failure';

const MAX_SEEN = 256;
/** `seen` of a check the per-request budget did not cover. */
export const NOT_EVALUATED = '[not evaluated: evaluation budget exhausted]';
/** `seen` of a check whose key names two claims that differ only in case. */
export const AMBIGUOUS_CLAIM = '[ambiguous: two claims differ only in case]';

/**
 * Evaluates compiled conditions against verified token claims; never throws. In `all` mode
 * `checks` holds one entry per pair, so a refusal can be explained; in `first-failure` mode it
 * ends at the first failed check. Steps are charged to `budget` when given: once it is used up,
 * every remaining check fails closed with `seen` = {@link NOT_EVALUATED}.
 */
export function evaluateConditions(
  compiled: CompiledConditions,
  claims: Record<string, unknown>,
  budget?: Budget,
  mode: EvaluationMode = 'all',
): ConditionResult {
  const checks: ConditionCheck[] = [];
  let matched = true;
  for (const c of compiled.conditions) {
    const result = check(c, claims, budget);
    checks.push(result);
    matched &&= result.matched;
    if (!matched && mode === 'first-failure') break;
  }
  return { matched, checks };
}

function check(c: CompiledCondition, claims: unknown, budget: Budget | undefined): ConditionCheck {
  const refuse = (seen: unknown): ConditionCheck => ({ operator: c.operator, key: c.key, matched: false, seen });
  if (budget && budget.remaining <= 0) return refuse(NOT_EVALUATED);
  try {
    const found = resolveClaim(claims, c.path, budget);
    if (found === AMBIGUOUS) return refuse(AMBIGUOUS_CLAIM);
    const oversized = found && oversize(found.value);
    if (oversized) return refuse(oversized);
    return { operator: c.operator, key: c.key, matched: decide(c, found, budget), seen: summarize(found?.value) };
  } catch (e) {
    // Exotic claim objects (throwing proxies) are refused, never allowed to escape as errors.
    return refuse(e instanceof BudgetExhausted ? NOT_EVALUATED : undefined);
  }
}

/**
 * A claim too large to evaluate cheaply fails every operator, `Null`, negated and `IfExists` forms
 * included: refusing it costs nothing a real token needs (limits.ts), and no operator can then be
 * satisfied by making a claim expensive.
 */
function oversize(v: unknown): string | undefined {
  const long = (s: unknown) => typeof s === 'string' && s.length > MAX_CLAIM_LENGTH;
  if (long(v)) return `[not evaluated: claim longer than ${MAX_CLAIM_LENGTH} characters]`;
  if (!Array.isArray(v)) return undefined;
  if (v.length > MAX_CLAIM_ELEMENTS) return `[not evaluated: claim array longer than ${MAX_CLAIM_ELEMENTS} elements]`;
  for (let i = 0; i < v.length; i++) if (long(v[i])) return `[not evaluated: claim element longer than ${MAX_CLAIM_LENGTH} characters]`;
  return undefined;
}

function decide(c: CompiledCondition, found: { value: unknown } | undefined, budget: Budget | undefined): boolean {
  // An empty string or array is "present" to some readers and a null data set to others (IAM User
  // Guide, Null condition operator): it passes neither `Null: true` nor `Null: false`.
  if (c.family === 'null') return !isEmpty(found) && c.test(found === undefined, budget);
  // AWS: ForAnyValue on a missing key is false ("Set operators for multivalued context keys"),
  // and an independent evaluator keeps it false with IfExists too: so does fedbroker.
  if (found === undefined) return c.ifExists && c.set !== 'any';
  const v = found.value;
  if (c.set === 'single') return !Array.isArray(v) && c.test(v, budget);
  // A scalar claim under a set operator is a one-element set (e.g. `aud`, RFC 7519 §4.1.3).
  const items: readonly unknown[] = Array.isArray(v) ? v : [v];
  if (items.length === 0) return c.set === 'all' && c.ifExists;
  // Indexed reads, so holes in a sparse array count as non-matching elements.
  for (let i = 0; i < items.length; i++) {
    const ok = c.test(items[i], budget);
    if (c.set === 'any' && ok) return true;
    if (c.set === 'all' && !ok) return false;
  }
  return c.set === 'all';
}

function isEmpty(found: { value: unknown } | undefined): boolean {
  return found !== undefined && (found.value === '' || (Array.isArray(found.value) && found.value.length === 0));
}

/** JSON-safe and bounded: strings cut to 256 characters, arrays to 20 elements, objects named. */
function summarize(v: unknown, nested = false): unknown {
  if (typeof v === 'string') return v.slice(0, MAX_SEEN);
  if (v === undefined || v === null || typeof v === 'number' || typeof v === 'boolean') return v;
  if (Array.isArray(v) && !nested) return v.slice(0, 20).map((e: unknown) => summarize(e, true));
  return Array.isArray(v) ? '[array]' : typeof v === 'object' ? '[object]' : `[${typeof v}]`;
}

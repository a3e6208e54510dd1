import { byId } from '../code-unit-order.ts';
import { MAX_RELATIONSHIPS } from './tenant.ts';

/** What decides whether a stored relationship is evaluated. */
interface Stored {
  readonly id: string;
  readonly enabled: boolean;
  readonly generation?: string | undefined;
}

/** Why a stored relationship is not evaluated: the `:explain` check that fails for it. */
export type Unevaluated = 'enabled' | 'generation' | 'tenant_cap';

const why = (r: Stored): Unevaluated | undefined =>
  !r.enabled
    ? 'enabled'
    : // A document without a generation predates it: no token could be bound to it, so it is
      // never used (fail closed) until it is saved again.
      typeof r.generation !== 'string' || r.generation.length === 0
      ? 'generation'
      : undefined;

/**
 * The relationships an exchange and a certificate session evaluate, of every kind: the enabled
 * ones that carry a generation, the first {@link MAX_RELATIONSHIPS} by id. The tenant cap is a
 * read before the write, so concurrent creates can overshoot it; this holds the evaluation cost
 * (threat model I3) whatever the store holds. One definition, so that `:explain` and
 * `x509:explain` describe exactly this set ({@link explainedRelationships}).
 */
export function evaluatedRelationships<R extends Stored>(stored: readonly R[]): R[] {
  return stored
    .filter((r) => why(r) === undefined)
    .sort(byId)
    .slice(0, MAX_RELATIONSHIPS);
}

/**
 * What an explanation lists, by id: every relationship {@link evaluatedRelationships} keeps, and at
 * most {@link MAX_RELATIONSHIPS} of the others, each with the check that keeps it out, so the
 * answer stays bounded and never shows as matched what the exchange does not evaluate.
 */
export function explainedRelationships<R extends Stored>(stored: readonly R[]): { relationship: R; unevaluated?: Unevaluated }[] {
  const evaluated = new Set<Stored>(evaluatedRelationships(stored));
  const others = stored
    .filter((r) => !evaluated.has(r))
    .sort(byId)
    .slice(0, MAX_RELATIONSHIPS)
    .map((r) => ({ relationship: r, unevaluated: why(r) ?? ('tenant_cap' as const) }));
  return [...[...evaluated].map((r) => ({ relationship: r as R })), ...others].sort((a, b) => byId(a.relationship, b.relationship));
}

/**
 * The first checks an explanation shows for a listed relationship: `enabled`, then, for one the
 * exchange does not evaluate although enabled, the check that keeps it out (`generation`: saved
 * before generations existed; `tenant_cap`: past the first {@link MAX_RELATIONSHIPS} by id).
 */
export function standingChecks(entry: { relationship: Stored; unevaluated?: Unevaluated }): { check: string; matched: boolean }[] {
  const { relationship, unevaluated } = entry;
  return [
    { check: 'enabled', matched: relationship.enabled },
    ...(unevaluated && unevaluated !== 'enabled' ? [{ check: unevaluated, matched: false }] : []),
  ];
}

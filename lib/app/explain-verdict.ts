import { SubjectTokenInvalid } from '../errors.ts';
import { renderIdentity } from '../trust/identity.ts';
import { requestBudget } from '../trust/limits.ts';
import type { Check, CompiledTrust } from '../trust/policy.ts';
import type { TenantRecord } from '../directory/ports.ts';

/** Why the exchange admits nothing for this tenant (`unknown_tenant`, `tenant`), or undefined when it is active. */
export function tenantStanding(record: TenantRecord): 'unknown_tenant' | 'tenant' | undefined {
  if (!record.tenant) return 'unknown_tenant';
  return record.tenant.status === 'active' ? undefined : 'tenant';
}

/** The exchange's (or a certificate session's) verdict over its candidates, as an explanation shows it. */
export interface Verdict {
  /** The relationship the exchange would pick: the first whose checks hold. */
  chosen?: CompiledTrust;
  /** The step that refused after the pick (rendering the subject, tags or source identity): no grant. */
  refused?: Check;
}

/**
 * Reaches the verdict the exchange's way (lib/app/external.ts, lib/app/x509.ts): id order, each
 * candidate up to its first failed check, one step budget; then the pick is rendered with the same
 * function (lib/trust/identity.ts). The exchange never falls back to a later relationship when
 * that refuses, so neither does this (threat model I3).
 */
export function exchangeVerdict(
  candidates: readonly CompiledTrust[],
  seen: Record<string, unknown>,
  claims: Record<string, unknown>,
  tenant: string,
): Verdict {
  const budget = requestBudget();
  const chosen = candidates.find((t) => t.evaluate(seen, budget, 'first-failure').matched);
  if (!chosen) return {};
  try {
    renderIdentity(chosen.relationship, tenant, claims);
    return { chosen };
  } catch (e) {
    if (!(e instanceof SubjectTokenInvalid)) throw e;
    return { chosen, refused: { check: e.reason, matched: false, seen: e.message.slice(0, 256) } };
  }
}

/**
 * The checks an explanation adds after a candidate's own: the refusal of the pick, or, for a later
 * candidate whose checks all held, that an earlier one was picked. `matched` is true only for the
 * pick when nothing refused it.
 */
export function verdictFor(t: CompiledTrust, shownChecks: readonly Check[], verdict: Verdict): { matched: boolean; extra: Check[] } {
  const { chosen, refused } = verdict;
  if (t === chosen) return { matched: refused === undefined, extra: refused ? [refused] : [] };
  const held = shownChecks.length > 0 && shownChecks.every((c) => c.matched);
  return { matched: false, extra: chosen && held ? [{ check: 'earlier_match', matched: false, seen: chosen.relationship.id }] : [] };
}

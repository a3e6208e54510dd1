import { MAX_TOKEN_BYTES } from '../limits.ts';

/**
 * The caps that bound what one trust relationship can cost to evaluate, and the per-request budget
 * that is the hard ceiling whatever the caps allow. Policy-side caps are refused when a relationship
 * is written (`PolicyInvalid`, with the path); claim-side caps fail the check closed at evaluation.
 *
 * The numbers sit far above what real relationships use: a GitHub Actions `sub`
 * (`repo:<owner ≤ 39>/<repo ≤ 100>:environment:<name ≤ 255>`) is under 420 characters, a GitLab
 * `project_path` under 255, a Kubernetes service-account `sub` under 320; relationships list a few
 * repositories or branches per key and a handful of keys. AWS IAM's own limits are tighter still
 * (IAM User Guide, "IAM and AWS STS quotas": a role trust policy is at most 4,096 characters by
 * default, 8,192 at most), so a trust policy that fits in IAM always fits here.
 */

/** Characters in one condition value (a `StringLike` pattern costs ⌈(tokens+1)/32⌉ words per code point). */
export const MAX_PATTERN_LENGTH = 512;
/** Values of one operator/claim-key pair (ORed). */
export const MAX_VALUES_PER_PAIR = 50;
/** Values over all pairs of one relationship. */
export const MAX_VALUES_PER_RELATIONSHIP = 200;
/** Operator/claim-key pairs of one relationship (ANDed). */
export const MAX_PAIRS_PER_RELATIONSHIP = 50;

/**
 * Most dot-separated segments in a dotted claim key, and most reference tokens in a JSON Pointer.
 * Resolving a dotted key tries each run of segments at each level (longest own key first), so its
 * cost grows with the square of the segment count; real claim names (`kubernetes.io.namespace`)
 * use two or three.
 */
export const MAX_KEY_SEGMENTS = 8;
export const MAX_POINTER_SEGMENTS = 32;

/** A string claim longer than this (UTF-16 code units) fails every operator closed. */
export const MAX_CLAIM_LENGTH = 1024;
/** An array claim with more elements than this fails every operator closed. */
export const MAX_CLAIM_ELEMENTS = 100;
// Upstream tokens are refused above 16 KB before any claim is read (`lib/upstream`): claim text is smaller.
export { MAX_TOKEN_BYTES };

/**
 * Worst-case matcher steps to evaluate one relationship against one token, from the caps alone.
 *
 * The values of a pair share one matcher of Σ(tokens + 1) bits, read once per code point of the
 * claim: a pair costs ⌈bits/32⌉ steps per code point. Over a relationship, bits ≤ 200 × 513, so the
 * words of all pairs are at most ⌈200 × 513 / 32⌉ + 50 (one partial word per pair). One pair reads
 * at most one claim: ≤ 100 elements × 1024 code units, and never more than the token's 16 KB of
 * text. Other operators are charged one step per claim element compared. Hence
 *   steps(relationship) ≤ (⌈200 × 513 / 32⌉ + 50) × 16,384 ≈ 53.4 million,
 * which is why {@link REQUEST_BUDGET_STEPS}, not this bound, is the ceiling per request.
 */
export const WORST_CASE_STEPS_PER_RELATIONSHIP =
  (Math.ceil((MAX_VALUES_PER_RELATIONSHIP * (MAX_PATTERN_LENGTH + 1)) / 32) + MAX_PAIRS_PER_RELATIONSHIP) *
  Math.min(MAX_CLAIM_ELEMENTS * MAX_CLAIM_LENGTH, MAX_TOKEN_BYTES);

/**
 * Matcher steps one request may spend over every candidate relationship of its tenant. Real
 * relationships cost tens to a few thousand steps (a 40-character pattern against an 80-character
 * `sub` is 2 words × 80 = 160 steps), so 100 of them stay under 10 % of this; an adversarial tenant
 * and token are cut off after it (about 10–20 ms of CPU, see `bench/worst-case.ts`). Checks left when
 * it runs out fail closed.
 */
export const REQUEST_BUDGET_STEPS = 4_000_000;

/**
 * A per-request allowance of steps, shared by every relationship evaluated for one request, with
 * the request's memo of case-folded claim strings (each folded, and charged, once per request).
 */
export interface Budget {
  remaining: number;
  folded?: Map<string, string>;
}

/** A fresh per-request budget. */
export function requestBudget(steps = REQUEST_BUDGET_STEPS): Budget {
  return { remaining: steps };
}

/** Thrown (and caught by the evaluator, which fails the check closed) when a {@link Budget} runs out. */
export class BudgetExhausted extends Error {
  constructor() {
    super('evaluation budget exhausted');
  }
}

/**
 * Steps charged by every condition evaluation in this process: a wildcard matcher one per 32-bit
 * word per code point read, every other comparison one. Tests count work with it instead of timing.
 * Kept on globalThis, so that it stays one counter when a test loads the handlers' modules afresh.
 */
const WORK = Symbol.for('fedbroker.evaluationWork');
const shared = globalThis as { [WORK]?: { steps: number } };
shared[WORK] ??= { steps: 0 };
export const evaluationWork: { steps: number } = shared[WORK];

/** Charges `steps` to the process counter and to `budget`, throwing once the budget is overdrawn. */
export function charge(budget: Budget | undefined, steps: number): void {
  evaluationWork.steps += steps;
  if (!budget) return;
  budget.remaining -= steps;
  if (budget.remaining < 0) throw new BudgetExhausted();
}

// How `npm run bench` judges a timed row measured in several passes (bench/run.ts). Pure
// functions, unit-tested (test/unit/bench/verdicts.test.ts); they compare numbers, they never time anything.

export const PASS = 'PASS';
export const MISS = '**MISS**';
export const UNSTABLE = '`unstable`';
export const verdict = (ok: boolean) => (ok ? PASS : MISS);

/** The passes' medians differ by more than `tolerance` (0.15: the largest is over 15 % above the smallest). */
export function unstable(values: readonly number[], tolerance = 0.15): boolean {
  if (values.length < 2) return false;
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  return !(lo > 0) || hi / lo - 1 > tolerance;
}

/** `unstable` when the passes disagree; otherwise PASS when every pass's median meets the target, MISS when one does not. */
export function judge(values: readonly number[], ok: (x: number) => boolean, tolerance = 0.15): string {
  return unstable(values, tolerance) ? UNSTABLE : verdict(values.every(ok));
}

/** For rows with no target: `unstable`, or —. */
export const noTarget = (values: readonly number[], tolerance = 0.15) => (unstable(values, tolerance) ? UNSTABLE : '—');

/** The worst of several verdicts: MISS, then `unstable`, then PASS. */
export const worstOf = (verdicts: readonly string[]) => (verdicts.includes(MISS) ? MISS : verdicts.includes(UNSTABLE) ? UNSTABLE : PASS);

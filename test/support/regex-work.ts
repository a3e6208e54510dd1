// Counts the work of a matcher instead of timing it (timings belong in `npm run bench`): the
// RegExp executions made against one subject string while `fn` runs.

/**
 * Runs `fn` and counts the RegExp executions against `subject`, refusing (recording and throwing
 * instead of running) any whose source has a quantifier, i.e. any that could backtrack. A
 * quantifier-free RegExp costs at most O(subject × source) per execution, so a bounded number of
 * them bounds the matcher's work; a backtracking matcher (one `^.*a.*b$` RegExp, or a search
 * retrying piece placements) shows up in `refused` or `execs`. Past `budget` executions it throws
 * too, so such a matcher fails the test instead of hanging it.
 *
 * `from` limits the count to executions whose caller's file matches it (by call stack), e.g. the
 * trust policy code, when other modules (the audit sanitizer) scan the same string. If StringLike
 * ever stops matching with RegExps, this oracle must be replaced, not dropped.
 */
export async function regexWorkOn<T>(subject: string, budget: number, fn: () => T | Promise<T>, from?: RegExp): Promise<{ result: T; execs: number; refused: string[] }> {
  const work = { execs: 0, refused: [] as string[] };
  const exec = RegExp.prototype.exec;
  RegExp.prototype.exec = function (this: RegExp, input: string) {
    if (input === subject && (!from || from.test(new Error().stack?.split('\n').slice(2, 6).join('\n') ?? ''))) {
      const bare = this.source.replace(/\\[\s\S]/g, '').replace(/\(\?(?:[:=!]|<[=!])/g, '(');
      if (/[*+?{]/.test(bare)) {
        work.refused.push(this.source);
        throw new Error('backtracking-prone RegExp refused by the test');
      }
      if (++work.execs > budget) throw new Error('RegExp execution budget exceeded');
    }
    return exec.call(this, input);
  };
  try {
    return { result: await fn(), ...work };
  } finally {
    RegExp.prototype.exec = exec;
  }
}

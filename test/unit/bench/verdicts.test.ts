import { describe, expect, it } from 'vitest';
import { judge, MISS, noTarget, PASS, UNSTABLE, unstable, worstOf } from '../../../bench/verdicts.ts';

describe('bench verdicts over repeated passes', () => {
  it('marks a row unstable when its pass medians differ by more than 15 %, whatever the target says', () => {
    expect(unstable([1.0, 1.15])).toBe(false);
    expect(unstable([1.0, 1.16])).toBe(true);
    expect(unstable([1.16, 1.0])).toBe(true);
    expect(judge([0.8, 1.2], (x) => x <= 1.3)).toBe(UNSTABLE);
    expect(noTarget([2, 1])).toBe(UNSTABLE);
    expect(noTarget([1, 1.1])).toBe('—');
  });

  it('passes only when every stable pass meets the target', () => {
    expect(judge([1.1, 1.12], (x) => x <= 1.15)).toBe(PASS);
    expect(judge([1.1, 1.2], (x) => x <= 1.15)).toBe(MISS);
    expect(judge([1.2], (x) => x <= 1.15)).toBe(MISS);
  });

  it('cannot call a zero or missing median stable', () => {
    expect(unstable([0, 0])).toBe(true);
    expect(unstable([Number.NaN, 1])).toBe(true);
    expect(unstable([3])).toBe(false);
  });

  it('summarises many rows by the worst: MISS, then unstable, then PASS', () => {
    expect(worstOf([PASS, UNSTABLE, MISS])).toBe(MISS);
    expect(worstOf([PASS, UNSTABLE])).toBe(UNSTABLE);
    expect(worstOf([PASS, PASS])).toBe(PASS);
  });
});

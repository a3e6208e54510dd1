import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { durationOption, formatDuration, parseDuration } from '../../../cli/duration.ts';

describe('duration parser', () => {
  it.each([
    ['90s', 90],
    ['15m', 900],
    ['1h', 3600],
    ['1h30m', 5400],
    ['1h30m15s', 5415],
    ['2m30s', 150],
    ['600', 600],
    [' 15M ', 900],
  ])('reads %j as %i seconds', (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });

  it.each(['', 'm', '1.5h', '-5m', '15 m', '30m1h', '1d', 'abc', '0', '0m', '1h1h'])('refuses %j', (text) => {
    expect(() => parseDuration(text)).toThrow(/invalid duration/);
  });

  it('refuses more than a week', () => {
    expect(parseDuration('168h')).toBe(604800);
    expect(() => parseDuration('169h')).toThrow(/at most 7 days/);
  });

  it('reports bad option values as commander usage errors', () => {
    expect(() => durationOption('soon')).toThrow(InvalidArgumentError);
  });

  it.each([
    [0, '0s'],
    [45, '45s'],
    [900, '15m'],
    [5400, '1h30m'],
    [3661, '1h1m1s'],
    [-3, '0s'],
  ])('formats %i seconds as %j', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });

  it('formats what it parses back to the same number of seconds', () => {
    for (const seconds of [1, 59, 60, 61, 3599, 3600, 3601, 86399, 604800]) expect(parseDuration(formatDuration(seconds))).toBe(seconds);
  });
});

import { describe, expect, it } from 'vitest';
import {
  keepFresh,
  REFRESH_DEFAULTS,
  RefreshGaveUp,
  refreshAt,
  retryDelay,
  type Lifetime,
  type RefreshDeps,
} from '../../../cli/refresh.ts';
import { rejection } from '../../support/rejection.ts';

const MIN = 60_000;

/**
 * A fake clock: `sleep` advances time instead of waiting, so hours of refreshing run instantly.
 * `script` answers each refresh in turn: a lifetime in minutes, or an error; after it runs out the
 * loop is stopped, as SIGTERM would.
 */
function harness(script: (number | Error)[]) {
  const clock = { ms: 0 };
  const controller = new AbortController();
  const refreshes: number[] = [];
  const failures: { consecutive: number; retryInMs: number }[] = [];
  const deps: RefreshDeps = {
    now: () => clock.ms,
    async sleep(ms) {
      clock.ms += ms;
    },
    async refresh(): Promise<Lifetime> {
      refreshes.push(clock.ms);
      const next = script.shift();
      if (script.length === 0) controller.abort();
      if (next instanceof Error || next === undefined) throw next ?? new Error('script ran out');
      return { issuedAt: clock.ms, expiresAt: clock.ms + next * MIN };
    },
    onFailure: (_e, consecutive, retryInMs) => failures.push({ consecutive, retryInMs }),
  };
  const run = (first: Lifetime, maxFailures: number = REFRESH_DEFAULTS.maxFailures) =>
    keepFresh(first, deps, { ...REFRESH_DEFAULTS, maxFailures, signal: controller.signal });
  return { clock, controller, refreshes, failures, run };
}

describe('keeping a token file fresh', () => {
  it('replaces each token once 80% of its lifetime has passed', async () => {
    const h = harness([15, 15, 60]);
    await h.run({ issuedAt: 0, expiresAt: 15 * MIN });
    expect(h.refreshes).toEqual([12 * MIN, 24 * MIN, 36 * MIN]);
  });

  it('follows the lifetime of the token it got, not the first one', async () => {
    const h = harness([60, 15]);
    await h.run({ issuedAt: 0, expiresAt: 10 * MIN });
    expect(h.refreshes).toEqual([8 * MIN, 56 * MIN]);
  });

  it('retries a failed refresh with doubling delays and resets the count after a success', async () => {
    const h = harness([new Error('down'), new Error('down'), 15, new Error('down'), 15]);
    await h.run({ issuedAt: 0, expiresAt: 15 * MIN });
    expect(h.failures).toEqual([
      { consecutive: 1, retryInMs: 2000 },
      { consecutive: 2, retryInMs: 4000 },
      { consecutive: 1, retryInMs: 2000 },
    ]);
    expect(h.refreshes).toEqual([12 * MIN, 12 * MIN + 2000, 12 * MIN + 6000, 24 * MIN + 6000, 24 * MIN + 8000]);
  });

  it('gives up after the configured number of consecutive failures, with the last one as cause', async () => {
    const last = new Error('still down');
    const h = harness([new Error('down'), new Error('down'), last, 15]);
    const failure = await rejection(h.run({ issuedAt: 0, expiresAt: 15 * MIN }, 3), RefreshGaveUp);
    expect((failure as RefreshGaveUp).failures).toBe(3);
    expect((failure as RefreshGaveUp).cause).toBe(last);
    expect(h.refreshes).toHaveLength(3);
  });

  it('stops without refreshing when stopped while waiting', async () => {
    const h = harness([15]);
    h.controller.abort();
    await h.run({ issuedAt: 0, expiresAt: 15 * MIN });
    expect(h.refreshes).toEqual([]);
  });

  it('caps the retry delay', () => {
    expect([1, 2, 3, 6, 7, 20].map((n) => retryDelay(n, REFRESH_DEFAULTS))).toEqual([2000, 4000, 8000, 60_000, 60_000, 60_000]);
  });

  it('refreshes at once a token that is already past its refresh point', () => {
    expect(refreshAt({ issuedAt: 1000, expiresAt: 1000 }, 0.8)).toBe(1000);
    expect(refreshAt({ issuedAt: 0, expiresAt: 100 }, 0.8)).toBe(80);
  });
});

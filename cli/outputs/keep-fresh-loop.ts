import { InvalidArgumentError, Option, type Command } from 'commander';
import { redact } from '../../lib/redact.ts';
import { CliError, toCliError } from '../errors.ts';
import { notice } from '../output.ts';
import { abortableSleep, keepFresh, REFRESH_DEFAULTS, RefreshGaveUp, type Lifetime } from '../refresh.ts';

export interface LoopOptions {
  maxFailures: number;
  timeScale: number;
}

function countArgument(text: string): number {
  if (!/^\d{1,3}$/.test(text) || Number(text) < 1) throw new InvalidArgumentError('a whole number from 1 to 999');
  return Number(text);
}

function scaleArgument(text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value < 1 || value > 10_000) throw new InvalidArgumentError('a factor from 1 to 10000');
  return value;
}

/** `--max-failures` and the hidden `--time-scale` (tests shorten every wait by its factor), as `aws web-identity` has them. */
export function loopOptions(c: Command, what: string): Command {
  return c
    .addOption(
      new Option('--max-failures <n>', `${what}: exit 1 after this many consecutive failed refreshes`)
        .argParser(countArgument)
        .default(REFRESH_DEFAULTS.maxFailures),
    )
    .addOption(new Option('--time-scale <factor>').argParser(scaleArgument).default(1).hideHelp());
}

const describeFailure = (e: unknown) => {
  const failure = toCliError(e);
  return `${failure.error}: ${redact(failure.message)}`;
};

export const until = (l: Lifetime) => new Date(l.expiresAt).toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * Runs `refresh` whenever 80% of the current lifetime has passed, until SIGINT/SIGTERM (or
 * `signal`) stops it; gives up loudly after `maxFailures` failures in a row (lib: cli/refresh.ts),
 * because a supervisor restarting a failed process beats a loop that lets credentials lapse.
 */
export async function refreshUntilStopped(
  label: string,
  first: Lifetime,
  refresh: () => Promise<Lifetime>,
  o: LoopOptions,
  readerCacheMs = 0,
): Promise<void> {
  // A reader that caches what it read for `readerCacheMs` may still use a token that long after
  // it was replaced: schedule on the life left to such a reader, report the real one.
  const forReader = (l: Lifetime): Lifetime => ({ issuedAt: l.issuedAt, expiresAt: Math.max(l.issuedAt, l.expiresAt - readerCacheMs) });
  const real = (l: Lifetime): Lifetime => ({ issuedAt: l.issuedAt, expiresAt: l.expiresAt + readerCacheMs });
  // A token the reader may keep for most of its life cannot be replaced in time: say so instead of rewriting it in a tight loop.
  const seconds = Math.floor((first.expiresAt - first.issuedAt) / 1000);
  if (readerCacheMs > 0 && seconds * 1000 < 2 * readerCacheMs) {
    throw new CliError(
      'token_too_short',
      `${label}: the token lives ${seconds}s but its reader keeps it up to ${readerCacheMs / 1000}s; ` +
        `ask for ${(2 * readerCacheMs) / 60_000} minutes or more with --duration`,
      2,
    );
  }
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await keepFresh(
      forReader(first),
      {
        refresh: async () => forReader(await refresh()),
        now: Date.now,
        sleep: (ms, s) => abortableSleep(ms / o.timeScale, s),
        onRefreshed: (l) => notice(`refreshed ${label}: valid until ${until(real(l))}`),
        onFailure: (e, n, wait) =>
          notice(`refresh ${n}/${o.maxFailures} of ${label} failed (${describeFailure(e)}); retrying in ${Math.ceil(wait / 1000)}s`),
      },
      { ...REFRESH_DEFAULTS, maxFailures: o.maxFailures, signal: controller.signal },
    );
  } catch (e) {
    if (!(e instanceof RefreshGaveUp)) throw e;
    throw new CliError('refresh_failed', `${label}: ${e.message}; last: ${describeFailure(e.cause)}`);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

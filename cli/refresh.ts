/** When a token was issued and when it expires, epoch milliseconds. */
export interface Lifetime {
  issuedAt: number;
  expiresAt: number;
}

export interface RefreshDeps {
  /** Issues and stores a fresh token; resolves its lifetime. */
  refresh(): Promise<Lifetime>;
  now(): number;
  /** Waits `ms`, resolving early once `signal` aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
  onRefreshed?(lifetime: Lifetime): void;
  onFailure?(error: unknown, consecutive: number, retryInMs: number): void;
}

export interface RefreshOptions {
  /** Share of a token's lifetime after which it is replaced (0.8: with a fifth of it left). */
  fraction: number;
  /** Consecutive failures after which the loop gives up. */
  maxFailures: number;
  /** First retry delay; doubled per consecutive failure, capped at `retryMaxMs`. */
  retryBaseMs: number;
  retryMaxMs: number;
  signal: AbortSignal;
}

export const REFRESH_DEFAULTS = { fraction: 0.8, maxFailures: 5, retryBaseMs: 2000, retryMaxMs: 60_000 } as const;

/** Thrown when `maxFailures` refreshes in a row have failed; `cause` is the last failure. */
export class RefreshGaveUp extends Error {
  readonly failures: number;
  constructor(failures: number, cause: unknown) {
    super(`gave up after ${failures} consecutive failed refreshes`, { cause });
    this.name = 'RefreshGaveUp';
    this.failures = failures;
  }
}

/** When the token issued at `l` is due for replacement. */
export function refreshAt(l: Lifetime, fraction: number): number {
  return l.issuedAt + Math.max(0, l.expiresAt - l.issuedAt) * fraction;
}

export function retryDelay(consecutive: number, o: Pick<RefreshOptions, 'retryBaseMs' | 'retryMaxMs'>): number {
  return Math.min(o.retryBaseMs * 2 ** (consecutive - 1), o.retryMaxMs);
}

/**
 * Keeps a token fresh until `signal` aborts: replaces it once `fraction` of its lifetime has
 * passed, retries failures with exponential backoff and gives up after `maxFailures` in a row —
 * a supervisor restarting a loudly failed process beats a loop that silently lets the token
 * expire. Resolves when stopped; rejects with {@link RefreshGaveUp}.
 */
export async function keepFresh(first: Lifetime, deps: RefreshDeps, o: RefreshOptions): Promise<void> {
  let current = first;
  let failures = 0;
  let due = refreshAt(current, o.fraction);
  while (!o.signal.aborted) {
    await deps.sleep(Math.max(0, due - deps.now()), o.signal);
    if (o.signal.aborted) return;
    try {
      current = await deps.refresh();
      failures = 0;
      due = refreshAt(current, o.fraction);
      deps.onRefreshed?.(current);
    } catch (e) {
      failures += 1;
      if (failures >= o.maxFailures) throw new RefreshGaveUp(failures, e);
      const wait = retryDelay(failures, o);
      due = deps.now() + wait;
      deps.onFailure?.(e, failures, wait);
    }
  }
}

/** A real sleep that ends early on abort and never keeps the process alive after it. */
export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

import type { Command } from 'commander';
import { storedTokenFor } from '../context.ts';
import { notice } from '../output.ts';
import { renewable, renewStoredToken } from '../sign-in.ts';
import { readStoredToken, renewCommand, secondsLeft, type StoredToken } from '../token-file.ts';

/** The stored access token is renewed once it has less than this left (an ID token cannot outlive it). */
const RENEW_BEFORE_SECONDS = 300;

/**
 * The stored access token for a command that keeps running (`aws serve`, `--refresh` modes), as
 * `aws web-identity --refresh` handles it: re-read at every refresh and, when about to expire,
 * renewed the way it was obtained; a token that cannot be renewed so is announced at start.
 */
export async function storedTokenSource(cmd: Command, keepsRunning: boolean): Promise<() => Promise<StoredToken>> {
  const stored = await storedTokenFor(cmd);
  if (keepsRunning && !renewable(stored)) {
    notice(
      `the stored access token expires at ${stored.expires_at} and cannot be renewed by this process (it was signed in with ` +
        `an inline token); refreshes fail after that unless it is renewed, e.g. by: ${renewCommand(stored)}`,
    );
  }
  return async () => {
    const held = await readStoredToken();
    if (keepsRunning && held && renewable(held) && secondsLeft(held) <= RENEW_BEFORE_SECONDS) await renewStoredToken(held);
    return storedTokenFor(cmd);
  };
}

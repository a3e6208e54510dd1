import { InvalidArgumentError } from 'commander';

/** Upper bound for any duration option: a week is far beyond what the broker grants, so larger is a typo. */
const MAX_SECONDS = 7 * 24 * 3600;

const UNITS = /^(?:(\d{1,6})h)?(?:(\d{1,6})m)?(?:(\d{1,7})s)?$/;

/**
 * Parses `90s`, `15m`, `1h`, `1h30m`, `1h30m15s` or a bare number of seconds into seconds.
 * Throws on anything else, on zero and on more than a week.
 */
export function parseDuration(text: string): number {
  const trimmed = text.trim().toLowerCase();
  let seconds: number;
  if (/^\d{1,7}$/.test(trimmed)) {
    seconds = Number(trimmed);
  } else {
    const m = UNITS.exec(trimmed);
    if (!m || trimmed === '') throw new Error(`invalid duration ${JSON.stringify(text)}; use e.g. 90s, 15m, 1h or 1h30m`);
    seconds = Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
  }
  if (seconds <= 0) throw new Error(`invalid duration ${JSON.stringify(text)}; it must be positive`);
  if (seconds > MAX_SECONDS) throw new Error(`invalid duration ${JSON.stringify(text)}; at most 7 days`);
  return seconds;
}

/** {@link parseDuration} as a commander option parser, so a bad value is a usage error. */
export function durationOption(text: string): number {
  try {
    return parseDuration(text);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

/** Formats seconds the way {@link parseDuration} reads them, e.g. `1h30m`; `0s` for none left. */
export function formatDuration(totalSeconds: number): string {
  const s = Math.max(0, Math.floor(totalSeconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  const text = `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${rest ? `${rest}s` : ''}`;
  return text || '0s';
}

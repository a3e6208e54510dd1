import { Option } from 'commander';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { CliError } from './errors.ts';

export type OutputFormat = 'plain' | 'json' | 'table';

/** The `-o, --output` option, limited to the formats a command actually has. */
export function outputOption(choices: OutputFormat[], fallback: OutputFormat): Option {
  return new Option('-o, --output <format>', 'output format').choices(choices).default(fallback);
}

// Control, format and line-separator characters other than tab and newline: terminal escapes
// (C0 ESC and C1 CSI, U+009B), bidi overrides, invisible marks. What the CLI prints can hold text
// anyone chose (a refused token's claims in the audit trail, a token's claims in explain), which
// must not be able to recolour, hide or reorder what is printed around it.
const UNPRINTABLE = /[^\P{Cc}\t\n]|[\p{Cf}\p{Zl}\p{Zp}]/gu;
const escapeUnit = (unit: string) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** `text` with every unprintable character written as a JSON-style `\uXXXX` escape (valid inside JSON strings too). */
export function escapeUnprintable(text: string): string {
  return text.replace(UNPRINTABLE, (c) => c.split('').map(escapeUnit).join(''));
}

/** Data for machines and pipes: stdout only. Unprintable characters only occur inside strings, escaped: the same JSON. */
export function printJson(value: unknown): void {
  process.stdout.write(`${escapeUnprintable(JSON.stringify(value, null, 2))}\n`);
}

export function printLine(line: string): void {
  process.stdout.write(`${escapeUnprintable(line)}\n`);
}

/** Confirmations and progress for people: stderr, so stdout stays clean for pipes. */
export function notice(line: string): void {
  process.stderr.write(`fedbroker: ${line}\n`);
}

/** Renders rows as space-aligned columns under an upper-case header. */
export function renderTable(columns: string[], rows: string[][]): string {
  const widths = columns.map((c, i) => Math.max(c.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.toUpperCase())), ...rows.map(line)].join('\n');
}

/**
 * Header and payload of a JWT, for display and local checks only: nothing here verifies the
 * signature, so nothing decoded here may be used for an access decision.
 */
export function decodeUnverified(token: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  try {
    return { header: decodeProtectedHeader(token) as Record<string, unknown>, payload: decodeJwt(token) as Record<string, unknown> };
  } catch {
    throw new CliError('invalid_token', 'the token is not a JWT');
  }
}

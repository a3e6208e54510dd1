import { InvalidArgumentError, Option } from 'commander';
import { SCOPES } from '../lib/tenants/tenant.ts';
import { tenantArgument } from './context.ts';
import { durationOption } from './duration.ts';

/**
 * Option factories for the flags several commands share, so each is spelled, parsed and
 * described once. Each call makes a new Option: commander keeps per-command state on it.
 */

/** `--tenant`, required: the tenant a command signs in to or acts on. */
export function tenantOption(description: string): Option {
  return new Option('--tenant <tenant>', description).argParser(tenantArgument).makeOptionMandatory();
}

/** `--tenant`, optional on commands that use the stored token: a guard, since that token already names its tenant. */
export function tenantGuardOption(): Option {
  return new Option('--tenant <tenant>', 'refuse to run unless the stored token belongs to this tenant').argParser(tenantArgument);
}

/** `--scope`: scopes to ask for at sign-in (checked against the known ones by parseScopes). */
export function scopeOption(): Option {
  return new Option('--scope <scopes>', `scopes to ask for, space or comma separated (${SCOPES.join(', ')})`);
}

/** `--duration`: a lifetime to ask the broker for, e.g. `15m`. */
export function durationFlag(description = 'lifetime to ask for, e.g. 15m or 1h'): Option {
  return new Option('--duration <duration>', description).argParser(durationOption);
}

/** `--ensure`: skip the sign-in when the stored token already does. */
export function ensureOption(): Option {
  return new Option(
    '--ensure <duration>',
    'do nothing when the stored token is for this endpoint and tenant and valid at least this long',
  ).argParser(durationOption);
}

/** `--token` / `--token-file`: a JWT given inline or in a file (exactly one; see readTokenSource). */
export function tokenSourceOptions(token: string, file: string): [Option, Option] {
  return [new Option('--token <jwt>', token), new Option('--token-file <file>', file)];
}

/** `--table`: the broker's DynamoDB table, for operator commands. */
export function tableOption(): Option {
  return new Option('--table <name>', 'the broker’s DynamoDB table').env('FEDBROKER_TABLE');
}

/** `--if-match 3` or `--if-match '"3"'`, as the ETag the server sent. */
export function versionArgument(text: string): number {
  const m = /^\s*(?:W\/)?"?(\d{1,12})"?\s*$/.exec(text);
  if (!m) throw new InvalidArgumentError('a version is a whole number, e.g. 3');
  return Number(m[1]);
}

/**
 * `--if-match <version>`, required by `update` and `remove` unless `--force` is given: without it
 * a change made since the caller last read the document would be silently overwritten (the lost
 * update RFC 9110 §13.1.1 conditional requests exist to prevent).
 */
export function ifMatchOption(): Option {
  return new Option('--if-match <version>', 'the version you last read ("version" in get); refused if it is no longer current').argParser(
    versionArgument,
  );
}

export function forceOption(): Option {
  return new Option('--force', 'instead of --if-match: act on whatever version is current now, and say which');
}

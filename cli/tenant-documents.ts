import { readFile } from 'node:fs/promises';
import { InvalidArgumentError, type Command } from 'commander';
import { describeJsonShapeIssue, jsonShapeIssue } from '../lib/json-shape.ts';
import { describeIssues, type ZodMiniType } from '../lib/zod.ts';
import { storedTokenFor, tenantArgument } from './context.ts';
import { CliError, usageError } from './errors.ts';
import { callBroker, type BrokerRequest, type BrokerResponse } from './http.ts';

/**
 * The machinery shared by the commands over a tenant's versioned documents in the admin API
 * (`/v1/tenants/{tenant}/trust-relationships`, `/v1/tenants/{tenant}/cognito-identity-pools`):
 * bearer calls with the stored token, local validation of document files with the server's own
 * schema, and If-Match versions.
 */

export interface TenantOptions {
  tenant?: string;
}

/** The collection a command works on: its path segment and what one document is called. */
export interface DocumentCollection {
  path: string;
  label: string;
}

export const TRUST_RELATIONSHIPS: DocumentCollection = { path: 'trust-relationships', label: 'trust relationship' };
export const IDENTITY_POOLS: DocumentCollection = { path: 'cognito-identity-pools', label: 'identity pool' };

export const JSON_TYPE = { 'Content-Type': 'application/json' };

/** `--tenant`, on every admin command: a guard, since the stored token already names its tenant. */
export const tenantOption = ['--tenant <tenant>', 'refuse to run unless the stored token belongs to this tenant', tenantArgument] as const;

/** `--if-match 3` or `--if-match '"3"'`, as the ETag the server sent. */
export function versionArgument(text: string): number {
  const m = /^\s*(?:W\/)?"?(\d{1,12})"?\s*$/.exec(text);
  if (!m) throw new InvalidArgumentError('a version is a whole number, e.g. 3');
  return Number(m[1]);
}

/**
 * Calls the admin API of the stored token's tenant, with that token as the bearer. `id` is
 * percent-encoded (identity pool ids contain ':'); `suffix` is appended as is (`:explain`).
 */
export async function tenantApi(
  cmd: Command,
  opts: TenantOptions,
  collection: DocumentCollection,
  request: BrokerRequest & { id?: string; suffix?: string },
): Promise<BrokerResponse> {
  const stored = await storedTokenFor(cmd, opts.tenant);
  const item = request.id !== undefined ? `/${encodeURIComponent(request.id)}` : '';
  const path = `/v1/tenants/${encodeURIComponent(stored.tenant)}/${collection.path}${item}${request.suffix ?? ''}`;
  return callBroker(stored.endpoint, path, { ...request, headers: { Authorization: `Bearer ${stored.access_token}`, ...request.headers } });
}

/** Reads a JSON file (usage error when it cannot be read or parsed). */
export async function readJsonFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw usageError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw usageError(`${file} is not valid JSON: ${(e as Error).message}`);
  }
  // The server would never see the first copy: refused here as the API refuses it.
  const issue = jsonShapeIssue(text);
  if (issue) throw usageError(describeJsonShapeIssue(file, issue));
  return value;
}

/**
 * Validates a document with the same schema the server uses, listing every issue. `source` names
 * the document in the message (a file name, or what a command built from its options).
 */
export function validateDocument(doc: unknown, schema: ZodMiniType, source: string, label: string): Record<string, unknown> {
  const parsed = schema.safeParse(doc);
  if (!parsed.success) {
    throw usageError(`${source} is not a valid ${label}: ${describeIssues(parsed.error).join('; ')}`);
  }
  // The original document is sent, not the parsed one: defaults are the server's to apply.
  return doc as Record<string, unknown>;
}

/** Reads and validates a document file. */
export async function readDocument(file: string, schema: ZodMiniType, label: string): Promise<Record<string, unknown>> {
  return validateDocument(await readJsonFile(file), schema, file, label);
}

/**
 * `--if-match <version>`, required by `update` and `remove` unless `--force` is given: without it
 * a change made since the caller last read the document would be silently overwritten (the lost
 * update RFC 9110 §13.1.1 conditional requests exist to prevent).
 */
export const ifMatchOption = [
  '--if-match <version>',
  'the version you last read ("version" in get); refused if it is no longer current',
  versionArgument,
] as const;
export const forceOption = ['--force', 'instead of --if-match: act on whatever version is current now, and say which'] as const;

/** What a change is conditional on: the version sent in If-Match, and whether --force chose it. */
export interface Precondition {
  version: number;
  forced: boolean;
  /** The If-Match header: always the quoted strong entity tag (RFC 9110 §8.8.3), never `W/` or bare. */
  ifMatch: string;
}

/**
 * The version an update or remove is conditional on: `--if-match`, or with `--force` the current
 * one read from the server right now. Neither is a usage error that says how to find the version,
 * rather than a silent read of the current one, which would make If-Match protect nothing.
 */
export async function precondition(
  cmd: Command,
  opts: TenantOptions & { ifMatch?: number; force?: boolean },
  collection: DocumentCollection,
  id: string,
): Promise<Precondition> {
  const command = `${cmd.name()} ${id}`;
  if (opts.ifMatch !== undefined && opts.force) throw usageError(`${command}: give --if-match or --force, not both`);
  if (opts.ifMatch !== undefined) return { version: opts.ifMatch, forced: false, ifMatch: `"${opts.ifMatch}"` };
  if (!opts.force) {
    throw usageError(
      `${command} needs --if-match <version>, the version you last read (see it with: fedbroker auth ${collection.path} get ${id}, field "version"), or --force to ${cmd.name() === 'remove' ? 'remove' : 'overwrite'} whatever version is current`,
    );
  }
  const version = await currentVersion(cmd, opts, collection, id);
  return { version, forced: true, ifMatch: `"${version}"` };
}

/** The current version of a document, from its ETag (else its body), read from the server. */
async function currentVersion(cmd: Command, opts: TenantOptions, collection: DocumentCollection, id: string): Promise<number> {
  const current = await tenantApi(cmd, opts, collection, { method: 'GET', id });
  const etag = current.headers.get('etag');
  const fromEtag = etag ? /^(?:W\/)?"(\d+)"$/.exec(etag)?.[1] : undefined;
  const fromBody = (current.body as { version?: unknown } | undefined)?.version;
  const found = fromEtag !== undefined ? Number(fromEtag) : fromBody;
  if (typeof found !== 'number') throw new CliError('invalid_response', `the server did not say which version of ${id} is current`);
  return found;
}

/** `(…; --force overwrote version 3)` after a forced change, so the log shows what was replaced. */
export function forcedNote(p: Precondition): string {
  return p.forced ? `; --force overwrote version ${p.version}` : '';
}

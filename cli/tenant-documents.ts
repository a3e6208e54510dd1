import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { type ApiRoute, apiPath } from '../lib/api-paths.ts';
import { describeJsonShapeIssue, jsonShapeIssue } from '../lib/json-shape.ts';
import { describeIssues, type ZodMiniType } from '../lib/zod.ts';
import { storedTokenFor } from './context.ts';
import { CliError, usageError } from './errors.ts';
import { type BrokerRequest, type BrokerResponse, callBroker } from './http.ts';
import { forceOption, ifMatchOption, tenantGuardOption } from './options.ts';
import { notice, type OutputFormat, outputOption, printJson, printLine, renderTable } from './output.ts';

/**
 * The commands over a tenant's versioned documents in the admin API (trust relationships,
 * identity pools, …): bearer calls with the stored token, local validation of document files
 * with the server's own schema, If-Match versions — and {@link registerDocumentCommands}, the one
 * factory that builds `list`, `get`, `add`, `update` and `remove` for each kind of document.
 */

export interface TenantOptions {
  tenant?: string;
}

interface Common extends TenantOptions {
  output: OutputFormat;
}

type Conditional = Common & { ifMatch?: number; force?: boolean };

export const JSON_TYPE = { 'Content-Type': 'application/json' };

/**
 * Calls the admin API of the stored token's tenant, with that token as the bearer: `route` with
 * `{tenant}` (and `{id}`, when given) filled in.
 */
export async function tenantApi(
  cmd: Command,
  opts: TenantOptions,
  route: ApiRoute,
  request: BrokerRequest & { id?: string },
): Promise<BrokerResponse> {
  const stored = await storedTokenFor(cmd, opts.tenant);
  const path = apiPath(route, { tenant: stored.tenant, ...(request.id !== undefined ? { id: request.id } : {}) });
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
async function precondition(cmd: Command, opts: Conditional, kind: DocumentKind, id: string): Promise<Precondition> {
  const command = `${cmd.name()} ${id}`;
  if (opts.ifMatch !== undefined && opts.force) throw usageError(`${command}: give --if-match or --force, not both`);
  if (opts.ifMatch !== undefined) return { version: opts.ifMatch, forced: false, ifMatch: `"${opts.ifMatch}"` };
  if (!opts.force) {
    throw usageError(
      `${command} needs --if-match <version>, the version you last read ` +
        `(see it with: fedbroker auth ${kind.command} get ${id}, field "version"), ` +
        `or --force to ${cmd.name() === 'remove' ? 'remove' : 'overwrite'} whatever version is current`,
    );
  }
  const version = await currentVersion(cmd, opts, kind, id);
  return { version, forced: true, ifMatch: `"${version}"` };
}

/** The current version of a document, from its ETag (else its body), read from the server. */
async function currentVersion(cmd: Command, opts: TenantOptions, kind: DocumentKind, id: string): Promise<number> {
  const current = await tenantApi(cmd, opts, kind.routes.item, { method: 'GET', id });
  const etag = current.headers.get('etag');
  const fromEtag = etag ? /^(?:W\/)?"(\d+)"$/.exec(etag)?.[1] : undefined;
  const fromBody = (current.body as { version?: unknown } | undefined)?.version;
  const found = fromEtag !== undefined ? Number(fromEtag) : fromBody;
  if (typeof found !== 'number') throw new CliError('invalid_response', `the server did not say which version of ${id} is current`);
  return found;
}

/** `(…; --force overwrote version 3)` after a forced change, so the log shows what was replaced. */
function forcedNote(p: Precondition): string {
  return p.forced ? `; --force overwrote version ${p.version}` : '';
}

/** A document as the API returns it: the server adds `version`. */
export type StoredDocument = Record<string, unknown> & { version: number };

/**
 * One kind of tenant document, declared once: everything {@link registerDocumentCommands} needs
 * to build its commands. A new kind is a new declaration (and its routes in lib/api-paths.ts).
 */
export interface DocumentKind<T extends StoredDocument = StoredDocument> {
  /** The `auth` subcommand, e.g. `trust-relationships`. */
  command: string;
  description: string;
  /** What one document is called in messages, e.g. `trust relationship`. */
  label: string;
  routes: { list: ApiRoute; item: ApiRoute };
  /** The server's own input schema: documents are refused locally as the API would refuse them. */
  schema: ZodMiniType;
  id: { argument: string; description: string; parse(text: string): string; of(doc: T): string };
  /** The subcommand descriptions, and what `--file` holds for `add` and `update`. */
  help: { list: string; get: string; add: string; update: string; remove: string; addFile: string; updateFile: string };
  /** The verb `add` reports, e.g. `created`. */
  added: string;
  /** `get` prints JSON, or with `table` also a field/value table. */
  getFormats: OutputFormat[];
  /** The `list -o table` columns and one row. */
  table: { columns: string[]; row(doc: T): string[] };
  /** Why an `update --file` document is not the one named on the command line, or undefined when it is. */
  mismatch(doc: Record<string, unknown>, id: string, file: string): string | undefined;
}

/**
 * `fedbroker auth <kind> list|get|add|update|remove`: the tenant's documents of one kind, through
 * the admin API with the stored token. Returns the group, so a kind can add its own subcommands.
 */
export function registerDocumentCommands<T extends StoredDocument>(auth: Command, kind: DocumentKind<T>): Command {
  const group = auth.command(kind.command).description(kind.description);
  const item = (res: BrokerResponse) => res.body as T;
  const read = (file: string) => readDocument(file, kind.schema, kind.label);

  group
    .command('list')
    .description(kind.help.list)
    .addOption(tenantGuardOption())
    .addOption(outputOption(['table', 'json', 'plain'], 'table'))
    .action(async (opts: Common, cmd: Command) => {
      const res = await tenantApi(cmd, opts, kind.routes.list, { method: 'GET' });
      const items = (res.body as { items?: T[] } | undefined)?.items ?? [];
      if (opts.output === 'json') return printJson({ items });
      if (opts.output === 'plain') {
        for (const d of items) printLine(kind.id.of(d));
        return;
      }
      printLine(renderTable(kind.table.columns, items.map(kind.table.row)));
    });

  group
    .command('get')
    .description(kind.help.get)
    .argument(kind.id.argument, kind.id.description, kind.id.parse)
    .addOption(tenantGuardOption())
    .addOption(outputOption(kind.getFormats, 'json'))
    .action(async (id: string, opts: Common, cmd: Command) => {
      const d = item(await tenantApi(cmd, opts, kind.routes.item, { method: 'GET', id }));
      if (opts.output !== 'table') return printJson(d);
      const rows = Object.entries(d).map(([key, value]) => [key, typeof value === 'string' ? value : JSON.stringify(value)]);
      printLine(renderTable(['field', 'value'], rows));
    });

  group
    .command('add')
    .description(kind.help.add)
    .requiredOption('--file <file>', kind.help.addFile)
    .addOption(tenantGuardOption())
    .addOption(outputOption(['plain', 'json'], 'plain'))
    .action(async (opts: Common & { file: string }, cmd: Command) => {
      const doc = await read(opts.file);
      const d = item(await tenantApi(cmd, opts, kind.routes.list, { method: 'POST', headers: JSON_TYPE, body: JSON.stringify(doc) }));
      notice(`${kind.added} ${kind.label} ${kind.id.of(d)} (version ${d.version})`);
      if (opts.output === 'json') printJson(d);
    });

  group
    .command('update')
    .description(kind.help.update)
    .argument(kind.id.argument, kind.id.description, kind.id.parse)
    .requiredOption('--file <file>', kind.help.updateFile)
    .addOption(ifMatchOption())
    .addOption(forceOption())
    .addOption(tenantGuardOption())
    .addOption(outputOption(['plain', 'json'], 'plain'))
    .action(async (id: string, opts: Conditional & { file: string }, cmd: Command) => {
      const doc = await read(opts.file);
      const mismatch = kind.mismatch(doc, id, opts.file);
      if (mismatch !== undefined) throw usageError(mismatch);
      const expected = await precondition(cmd, opts, kind, id);
      const headers = { ...JSON_TYPE, 'If-Match': expected.ifMatch };
      const d = item(await tenantApi(cmd, opts, kind.routes.item, { method: 'PUT', id, headers, body: JSON.stringify(doc) }));
      notice(`updated ${kind.label} ${kind.id.of(d)} (version ${d.version}${forcedNote(expected)})`);
      if (opts.output === 'json') printJson(d);
    });

  group
    .command('remove')
    .description(kind.help.remove)
    .argument(kind.id.argument, kind.id.description, kind.id.parse)
    .addOption(ifMatchOption())
    .addOption(forceOption())
    .addOption(tenantGuardOption())
    .action(async (id: string, opts: Conditional, cmd: Command) => {
      const expected = await precondition(cmd, opts, kind, id);
      await tenantApi(cmd, opts, kind.routes.item, { method: 'DELETE', id, headers: { 'If-Match': expected.ifMatch } });
      notice(`removed ${kind.label} ${id} (was version ${expected.version}${expected.forced ? ', removed with --force' : ''})`);
    });

  return group;
}

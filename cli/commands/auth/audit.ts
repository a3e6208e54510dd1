import { type Command, InvalidArgumentError } from 'commander';
import { API_ROUTES, apiPath } from '../../../lib/api-paths.ts';
import { storedTokenFor } from '../../context.ts';
import { parseDuration } from '../../duration.ts';
import { callBroker } from '../../http.ts';
import { tenantGuardOption } from '../../options.ts';
import { notice, type OutputFormat, outputOption, printJson, printLine, renderTable } from '../../output.ts';

interface AuditOptions {
  since?: string;
  until?: string;
  principal?: string;
  limit: number;
  cursor?: string;
  tenant?: string;
  output: OutputFormat;
}

type AuditItem = Record<string, unknown> & { time?: string; event?: string; outcome?: string };

/** The server's page size cap. */
const PAGE = 200;

/** `--since 2h` (that long ago) or an ISO 8601 time, sent as ISO. */
function timeArgument(text: string): string {
  if (/^\d{4}-\d{2}-\d{2}/.test(text)) {
    if (Number.isNaN(Date.parse(text))) throw new InvalidArgumentError('not a valid ISO 8601 time, e.g. 2025-01-31T12:00:00Z');
    return text;
  }
  try {
    return new Date(Date.now() - parseDuration(text) * 1000).toISOString();
  } catch (e) {
    throw new InvalidArgumentError(`${(e as Error).message}, or an ISO 8601 time`);
  }
}

function countArgument(text: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) < 1) throw new InvalidArgumentError('a whole number, at least 1');
  return Number(text);
}

const cell = (v: unknown) => (v === undefined || v === null ? '-' : typeof v === 'string' ? v : JSON.stringify(v));

/**
 * The principal column: the verified principal, else what a refused token claimed, marked so that
 * nobody reads a forged `sub` as someone who was there.
 */
function who(r: AuditItem): string {
  if (r.principal !== undefined) return cell(r.principal);
  const claimed = r.claimed_principal ?? r.claimed_subject;
  return claimed === undefined ? '-' : `${cell(claimed)} (unverified)`;
}

/** One line per record for people: what happened, to whom, and the record's most telling detail. */
function renderRecords(items: AuditItem[]): string {
  const rows = items.map((r) => [
    cell(r.time),
    cell(r.event),
    r.reason ? `${cell(r.outcome)} (${cell(r.reason)})` : cell(r.outcome),
    who(r),
    cell(r.target ?? r.audience),
    cell(r.jti),
    cell(r.source_ip),
  ]);
  return renderTable(['time', 'event', 'outcome', 'principal', 'target/audience', 'jti', 'source ip'], rows);
}

async function showAudit(opts: AuditOptions, cmd: Command): Promise<void> {
  const stored = await storedTokenFor(cmd, opts.tenant);
  const items: AuditItem[] = [];
  let cursor = opts.cursor;
  // Follows the server's cursors until --limit records or the end of the window.
  do {
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries({ since: opts.since, until: opts.until, principal: opts.principal, cursor }))
      if (v !== undefined) query.set(k, v);
    query.set('limit', String(Math.min(PAGE, opts.limit - items.length)));
    const res = await callBroker(stored.endpoint, `${apiPath(API_ROUTES.audit, { tenant: stored.tenant })}?${query}`, {
      method: 'GET',
      headers: { Authorization: `Bearer ${stored.access_token}` },
    });
    const page = res.body as { items?: AuditItem[]; next_cursor?: string } | undefined;
    items.push(...(page?.items ?? []));
    cursor = page?.next_cursor;
  } while (cursor !== undefined && items.length < opts.limit);
  if (opts.output === 'json') return printJson({ items, ...(cursor !== undefined ? { next_cursor: cursor } : {}) });
  printLine(items.length ? renderRecords(items) : 'no audit records in this window');
  if (cursor !== undefined) notice(`more records follow: add --cursor ${cursor}`);
}

/** `fedbroker auth audit`: the stored token's tenant's audit trail (needs the audit:read scope). */
export function registerAudit(auth: Command): void {
  auth
    .command('audit')
    .description("show the stored token's tenant's audit records, oldest first (needs the audit:read scope)")
    .option('--since <time>', 'start: an ISO 8601 time, or how long ago, e.g. 2h (default: 24 hours before --until)', timeArgument)
    .option('--until <time>', 'end (exclusive): an ISO 8601 time, or how long ago (default: now)', timeArgument)
    .option('--principal <sub>', "only records about this verified principal (its sub); refusals' unverified claims never match")
    .option('--limit <n>', 'print at most this many records', countArgument, 100)
    .option('--cursor <cursor>', 'continue after a previous page (the cursor printed with it)')
    .addOption(tenantGuardOption())
    .addOption(outputOption(['table', 'json'], 'table'))
    .action(showAudit);
}

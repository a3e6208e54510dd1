import { InvalidRequest } from '../errors.ts';
import type { AuditQuery } from './ports.ts';

const DAY_MS = 86_400_000;
/** Longest window one query may span: 31 day partitions at most. */
const MAX_RANGE_DAYS = 31;
const MAX_LIMIT = 200;
const DEFAULT_LIMIT = 50;

const ISO = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2}))?$/;
/** A record id: `<ISO time>#<12 hex>`, as the table adapter writes it. */
const RECORD_ID = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z#[0-9a-f]{12}$/;

function instant(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const ms = ISO.test(raw) ? Date.parse(raw) : Number.NaN;
  if (Number.isNaN(ms)) throw new InvalidRequest(`${name} must be an ISO 8601 date or time, e.g. 2025-01-31T12:00:00Z`);
  return ms;
}

/** The opaque pagination cursor: the id of the last record returned. */
export function encodeCursor(lastId: string): string {
  return Buffer.from(JSON.stringify({ after: lastId })).toString('base64url');
}

function decodeCursor(raw: string): string {
  let after: unknown;
  try {
    after = (JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as { after?: unknown } | null)?.after;
  } catch {
    after = undefined;
  }
  if (raw.length > 200 || typeof after !== 'string' || !RECORD_ID.test(after))
    throw new InvalidRequest('cursor is not a cursor this API returned');
  return after;
}

/**
 * Parses the audit API's query string: `since`/`until` (default: the last 24 h, at most
 * {@link MAX_RANGE_DAYS} days apart), `principal` (matches the verified `principal` only, never a
 * refusal's `claimed_principal`), `limit` (1–{@link MAX_LIMIT}) and `cursor`.
 */
export function parseAuditQuery(params: Record<string, string | undefined> | undefined, nowMs: number): AuditQuery {
  const p = params ?? {};
  const until = instant('until', p.until) ?? nowMs;
  const since = instant('since', p.since) ?? until - DAY_MS;
  if (since >= until) throw new InvalidRequest('since must be before until');
  if (until - since > MAX_RANGE_DAYS * DAY_MS) throw new InvalidRequest(`since and until may be at most ${MAX_RANGE_DAYS} days apart`);
  let limit = DEFAULT_LIMIT;
  if (p.limit !== undefined) {
    limit = /^\d{1,4}$/.test(p.limit) ? Number(p.limit) : 0;
    if (limit < 1 || limit > MAX_LIMIT) throw new InvalidRequest(`limit must be a whole number from 1 to ${MAX_LIMIT}`);
  }
  const principal = p.principal;
  if (principal !== undefined && (principal.length === 0 || principal.length > 512 || /[\u0000-\u001f\u007f]/.test(principal))) {
    throw new InvalidRequest('principal must be a principal sub');
  }
  return {
    since: new Date(since).toISOString(),
    until: new Date(until).toISOString(),
    limit,
    ...(principal !== undefined ? { principal } : {}),
    ...(p.cursor !== undefined ? { after: decodeCursor(p.cursor) } : {}),
  };
}

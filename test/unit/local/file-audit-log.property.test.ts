// FileAuditLog (the local run's audit copy) against DynamoAuditLog on dynalite (the table copy):
// the same deliveries written to both, the same queries asked of both, cursors followed to the
// end; both must answer alike, page by page. The audit API reads whichever the configuration
// names, so a caller must not be able to tell them apart.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestEntries } from '../../../lib/audit/lines.ts';
import type { AuditEntry, AuditQuery, AuditReader, AuditTableWriter } from '../../../lib/audit/ports.ts';
import { DynamoAuditLog } from '../../../lib/aws/dynamo-audit-log.ts';
import { Table } from '../../../lib/aws/dynamo-table.ts';
import { FileAuditLog } from '../../../lib/local/file-audit-log.ts';
import { startDynalite } from '../../../lib/local/dynalite.ts';
import { createTableFromServerlessYml } from '../../../lib/local/table.ts';

const DAY = 86_400_000;
const START = Date.UTC(2025, 0, 1);
const NOW = START + 2 * DAY;
const clock = { now: () => NOW };
const TENANTS = ['acme', 'globex', '_system'];
const PRINCIPALS = ['acme/ci/a', 'acme/ci/b'];
const iso = (ms: number) => new Date(ms).toISOString();

let dynamo: Awaited<ReturnType<typeof startDynalite>>;
let client: DynamoDBClient;
let tables = 0;
beforeAll(async () => {
  dynamo = await startDynalite();
  client = new DynamoDBClient({ region: 'us-east-1', endpoint: dynamo.endpoint, credentials: { accessKeyId: 't', secretAccessKey: 't' } });
});
afterAll(async () => {
  client.destroy();
  await dynamo.close();
});

/** Both stores, empty. */
async function stores(): Promise<[AuditTableWriter & AuditReader, AuditTableWriter & AuditReader]> {
  const name = `audit-${++tables}`;
  await createTableFromServerlessYml(client, name);
  return [
    new FileAuditLog(join(mkdtempSync(join(tmpdir(), 'fedbroker-audit-')), 'audit'), clock),
    new DynamoAuditLog(new Table(name, client), undefined, clock),
  ];
}

/** Every page of a query, following `last` to the end. */
async function pages(log: AuditReader, tenant: string, q: AuditQuery) {
  const out: Awaited<ReturnType<AuditReader['query']>>[] = [];
  let after = q.after;
  do {
    const page = await log.query(tenant, { ...q, ...(after !== undefined ? { after } : {}) });
    out.push(page);
    after = page.last;
  } while (after !== undefined && out.length < 500);
  return out;
}

const entryArb = fc
  .record({
    tenant: fc.constantFrom(...TENANTS),
    at: fc.integer({ min: 0, max: 3 * DAY - 1 }),
    suffix: fc.integer({ min: 0, max: 0xffff }),
    principal: fc.option(fc.constantFrom(...PRINCIPALS), { nil: undefined }),
    claimed: fc.option(fc.constantFrom(...PRINCIPALS), { nil: undefined }),
    outcome: fc.constantFrom('success' as const, 'refused' as const),
    expired: fc.integer({ min: 0, max: 5 }).map((n) => n === 0),
  })
  .map(({ tenant, at, suffix, principal, claimed, outcome, expired }): AuditEntry => {
    const time = iso(START + at);
    return {
      time,
      id: `${time}#${suffix.toString(16).padStart(12, '0')}`,
      tenant,
      event: 'token.exchange',
      outcome,
      expires_at: Math.floor(NOW / 1000) + (expired ? -60 : 3600),
      ...(principal !== undefined ? { principal } : {}),
      ...(claimed !== undefined ? { claimed_principal: claimed } : {}),
      ...(outcome === 'refused' ? { reason: 'expired' } : { scopes: ['id-token:issue'], detail: { n: suffix } }),
    };
  });

/** Deliveries: fresh entries, some redelivered later (whole or changed: the last write wins). */
const deliveriesArb = fc.array(
  fc.record({ fresh: fc.uniqueArray(entryArb, { selector: (e) => e.id, maxLength: 25 }), redeliver: fc.nat(), changed: fc.boolean() }),
  { minLength: 1, maxLength: 8 },
);

const queryArb = fc.record({
  tenant: fc.constantFrom(...TENANTS),
  since: fc.integer({ min: -DAY / 2, max: 3 * DAY }),
  span: fc.integer({ min: 1, max: 3 * DAY }),
  after: fc.option(fc.integer({ min: -DAY, max: 4 * DAY }), { nil: undefined }),
  principal: fc.option(fc.constantFrom(...PRINCIPALS, 'nobody'), { nil: undefined }),
  limit: fc.integer({ min: 1, max: 12 }),
});

describe('FileAuditLog and DynamoAuditLog (dynalite)', () => {
  it('answer every query alike, page by page, after the same deliveries and redeliveries', async () => {
    await fc.assert(
      fc.asyncProperty(deliveriesArb, fc.array(queryArb, { minLength: 1, maxLength: 6 }), async (deliveries, queries) => {
        const [file, table] = await stores();
        const written: AuditEntry[] = [];
        for (const { fresh, redeliver, changed } of deliveries) {
          const ids = new Set(fresh.map((e) => e.id));
          // A redelivery of an earlier delivery's entry (never twice in one delivery: DynamoDB refuses that).
          const again = written.length > 0 ? written[redeliver % written.length]! : undefined;
          const batch = again && !ids.has(again.id) ? [...fresh, changed ? { ...again, reason: 'redelivered' } : again] : fresh;
          written.push(...fresh);
          await ingestEntries(file, batch);
          await ingestEntries(table, batch);
        }
        for (const { tenant, since, span, after, principal, limit } of queries) {
          const q: AuditQuery = {
            since: iso(START + since),
            until: iso(START + since + span),
            limit,
            ...(principal !== undefined ? { principal } : {}),
            ...(after !== undefined ? { after: `${iso(START + after)}#000000000000` } : {}),
          };
          expect(await pages(file, tenant, q)).toEqual(await pages(table, tenant, q));
        }
      }),
      { numRuns: 40 },
    );
  }, 60_000);

  it('answer alike where a filtered query reaches its page bound and returns a cursor', async () => {
    const [file, table] = await stores();
    // 20 empty days read one page each; then a day of more than one page (200 read) with a
    // single match at its end: the bound is reached there, and a cursor leads on to the match.
    const day = START + 21 * DAY;
    const entries = Array.from({ length: 230 }, (_, n): AuditEntry => {
      const time = iso(day + n * 1000);
      return {
        time,
        id: `${time}#${n.toString(16).padStart(12, '0')}`,
        tenant: 'acme',
        event: 'token.exchange',
        outcome: 'success',
        expires_at: Math.floor(NOW / 1000) + 3600,
        principal: n === 229 ? 'acme/ci/a' : 'acme/ci/b',
      };
    });
    for (let i = 0; i < entries.length; i += 25) {
      await ingestEntries(file, entries.slice(i, i + 25));
      await ingestEntries(table, entries.slice(i, i + 25));
    }
    const q: AuditQuery = { since: iso(START), until: iso(day + DAY), principal: 'acme/ci/a', limit: 10 };
    const fromFile = await pages(file, 'acme', q);
    expect(fromFile).toEqual(await pages(table, 'acme', q));
    expect(fromFile.map((p) => p.items.length)).toEqual([0, 1]);
    expect(fromFile[0]!.last).toBe(entries[199]!.id);
  });
});

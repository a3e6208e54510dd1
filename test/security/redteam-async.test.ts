// Red team: concurrent KMS calls and audit read-ahead never leave unhandled rejections, and never
// hand back an unverified signature.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { pagedAuditQuery, type ReadAuditPage } from '../../lib/audit/paged-query.ts';
import type { AuditEntry } from '../../lib/audit/ports.ts';
import { startBroker, type TestBroker } from '../support/broker.ts';
import { kmsKeyRing } from '../support/key-ring.ts';

let broker: TestBroker;
const unhandled: unknown[] = [];
const onUnhandled = (e: unknown) => unhandled.push(e);
beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  broker = await startBroker();
});
afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  await broker.close();
});
const settle = () => new Promise((r) => setTimeout(r, 50));
/** Attempts per call of the KMS client test/support/key-ring.ts builds (`new KMSClient({})`: the SDK's default). */
const ATTEMPTS = 3;
const clock = { now: () => Date.now() };

describe('KmsSigner.sign with its verifier in parallel', () => {
  it('Sign fails while GetPublicKey fails: one error, no unhandled rejection', async () => {
    const { ring, signer } = await kmsKeyRing(broker, clock, 'red');
    const key = await ring().activeKey();
    // As many failures as the SDK makes attempts (test/support/key-ring.ts builds its KMS client
    // with the SDK's default, 3), so both calls fail for good and none is left over for the next
    // sign. The verifier fetch retries after a random backoff, so wait for its last attempt rather
    // than a fixed delay (a fixed one raced it, and the next sign reused the pending fetch).
    const before = broker.kms.calls.GetPublicKey ?? 0;
    broker.kms.failNext('Sign', 'KMSInternalException', ATTEMPTS);
    broker.kms.failNext('GetPublicKey', 'KMSInternalException', ATTEMPTS);
    await expect(signer.sign(key, new TextEncoder().encode('a.b'))).rejects.toBeDefined();
    await vi.waitFor(() => expect((broker.kms.calls.GetPublicKey ?? 0) - before).toBe(ATTEMPTS), { timeout: 5000 });
    await settle();
    expect(unhandled).toEqual([]);
    // next one works (a failed verifier is not kept)
    expect((await signer.sign(key, new TextEncoder().encode('a.b'))).byteLength).toBe(256);
  });
  it('Sign fails, GetPublicKey succeeds later: no unhandled rejection', async () => {
    const { ring, signer } = await kmsKeyRing(broker, clock, 'red');
    const key = await ring().activeKey();
    broker.kms.failNext('Sign', 'AccessDeniedException', 1, 400);
    await expect(signer.sign(key, new TextEncoder().encode('a.b'))).rejects.toBeDefined();
    await settle();
    expect(unhandled).toEqual([]);
  });
  it('a garbled signature is refused even when the verifier came first', async () => {
    const { ring, signer } = await kmsKeyRing(broker, clock, 'red');
    const key = await ring().activeKey();
    broker.kms.alterNext('Sign', (out: Record<string, unknown>) => ({ ...out, Signature: Buffer.alloc(256, 1).toString('base64') }));
    await expect(signer.sign(key, new TextEncoder().encode('a.b'))).rejects.toMatchObject({ code: expect.any(String) });
  });
});

describe('audit read-ahead', () => {
  const NOW = Date.parse('2026-12-07T12:00:00.000Z');
  const entries = Array.from({ length: 30 }, (_, i) => ({
    id: `2026-12-05T10:00:${String(i).padStart(2, '0')}.000Z#000000000000`,
    tenant: 'acme',
    expires_at: NOW / 1000 + 60,
  })) as unknown as AuditEntry[];
  it('a failing next-day read after an early answer is not an unhandled rejection', async () => {
    const readPage: ReadAuditPage = async ({ day, limit, start }) => {
      if (day !== '2026-12-05') {
        await new Promise((r) => setTimeout(r, 10));
        throw new Error(`boom ${day}`);
      }
      const read = entries.filter((e) => start === undefined || e.id > start).slice(0, limit);
      return { entries: read, ...(read.length === limit ? { lastKey: read.at(-1)!.id } : {}) };
    };
    const r = await pagedAuditQuery(
      { since: '2026-12-05T00:00:00.000Z', until: '2026-12-07T00:00:00.000Z', limit: 5, principal: undefined, after: undefined },
      NOW,
      readPage,
    );
    expect(r.items).toHaveLength(5);
    await settle();
    expect(unhandled).toEqual([]);
  });
  it('a failing first day with a pending read-ahead rejects once, nothing unhandled', async () => {
    const readPage: ReadAuditPage = async ({ day }) => {
      await new Promise((r) => setTimeout(r, day === '2026-12-05' ? 1 : 20));
      throw new Error(`boom ${day}`);
    };
    await expect(
      pagedAuditQuery(
        { since: '2026-12-05T00:00:00.000Z', until: '2026-12-08T00:00:00.000Z', limit: 5, principal: undefined, after: undefined },
        NOW,
        readPage,
      ),
    ).rejects.toThrow('boom 2026-12-05');
    await settle();
    expect(unhandled).toEqual([]);
  });
  it('a continuation page failure with a pending read-ahead: nothing unhandled', async () => {
    let n = 0;
    const readPage: ReadAuditPage = async ({ day, limit }) => {
      if (day === '2026-12-05' && n++ === 0) return { entries: entries.slice(0, 1), lastKey: entries[0]!.id };
      await new Promise((r) => setTimeout(r, day === '2026-12-05' ? 1 : 20));
      throw new Error(`boom ${day} ${limit}`);
    };
    await expect(
      pagedAuditQuery(
        { since: '2026-12-05T00:00:00.000Z', until: '2026-12-08T00:00:00.000Z', limit: 5, principal: undefined, after: undefined },
        NOW,
        readPage,
      ),
    ).rejects.toThrow(/boom 2026-12-05/);
    await settle();
    expect(unhandled).toEqual([]);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MAX_TRACKED_SOURCES,
  REFUSAL_RECORDS_PER_MINUTE,
  RefusalLimiter,
  sourceKey,
  type Admission,
} from '../../../lib/audit/refusal-limiter.ts';

const N = REFUSAL_RECORDS_PER_MINUTE;
/** How long one record's worth of allowance takes to come back. */
const REFILL_MS = 60_000 / N;

function limiter(options: { maxTracked?: number } = {}) {
  let now = Date.parse('2025-03-01T12:00:00.000Z');
  const clock = { now: () => now };
  const advance = (ms: number) => {
    now += ms;
  };
  return { limiter: new RefusalLimiter({ clock, ...options }), advance };
}

const admit = (l: RefusalLimiter, count: number, tenant = 'acme', ip = '203.0.113.7'): Admission[] =>
  Array.from({ length: count }, () => l.admit(tenant, ip));
const written = (admissions: Admission[]) => admissions.filter((a) => a.write).length;

describe('RefusalLimiter', () => {
  it(`writes a burst of ${N} refusal records per tenant and source, then suppresses`, () => {
    const { limiter: l } = limiter();
    const flood = admit(l, N + 5);
    expect(written(flood)).toBe(N);
    expect(flood.slice(N)).toEqual(Array.from({ length: 5 }, () => ({ write: false })));
  });

  it('carries the suppressed count on the next record written for the pair, once', () => {
    const { limiter: l, advance } = limiter();
    admit(l, N + 7);
    advance(REFILL_MS);
    expect(l.admit('acme', '203.0.113.7')).toEqual({ write: true, suppressed: 7 });
    advance(REFILL_MS);
    expect(l.admit('acme', '203.0.113.7')).toEqual({ write: true, suppressed: 0 });
  });

  it(`refills at ${N} records per minute, never above the burst`, () => {
    const { limiter: l, advance } = limiter();
    admit(l, N);
    advance(10 * 60_000);
    expect(written(admit(l, N + 1))).toBe(N);
  });

  it('leaves another source of the same tenant, and the same source of another tenant, unaffected', () => {
    const { limiter: l } = limiter();
    admit(l, N + 3);
    expect(l.admit('acme', '198.51.100.9')).toEqual({ write: true, suppressed: 0 });
    expect(l.admit('globex', '203.0.113.7')).toEqual({ write: true, suppressed: 0 });
  });

  it('keys IPv6 sources by their /64, which one host can pick addresses from at will', () => {
    const { limiter: l } = limiter();
    const flood = Array.from({ length: N + 1 }, (_, i) => l.admit('acme', `2001:db8:1:2::${(i + 1).toString(16)}`));
    expect(written(flood)).toBe(N);
    expect(l.admit('acme', '2001:db8:1:3::1').write).toBe(true);
  });

  it('refills nothing when the clock steps back', () => {
    const { limiter: l, advance } = limiter();
    admit(l, N);
    advance(-60_000);
    expect(l.admit('acme', '203.0.113.7').write).toBe(false);
  });

  it('drops a pair idle for a minute: its next refusal starts a full bucket', () => {
    const { limiter: l, advance } = limiter();
    admit(l, N, 'acme', '203.0.113.1');
    advance(60_000);
    l.admit('acme', '203.0.113.2');
    expect(l.tracked).toBe(1);
    expect(written(admit(l, N, 'acme', '203.0.113.1'))).toBe(N);
  });

  it('tracks at most so many pairs; pairs beyond share one bucket, so spreading over sources buys nothing', () => {
    const { limiter: l } = limiter({ maxTracked: 3 });
    for (const ip of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) l.admit('acme', ip);
    const spread = Array.from({ length: 2 * N }, (_, i) => l.admit('acme', `10.1.${i >> 8}.${i & 255}`));
    expect(written(spread)).toBe(N);
    expect(l.tracked).toBe(3);
    // Pairs already tracked keep their own buckets.
    expect(l.admit('acme', '10.0.0.1').write).toBe(true);
  });

  it(`bounds the map at ${MAX_TRACKED_SOURCES} pairs by default`, () => {
    const { limiter: l } = limiter();
    for (let i = 0; i < MAX_TRACKED_SOURCES + 50; i++) l.admit(`t${i}`, '203.0.113.7');
    expect(l.tracked).toBe(MAX_TRACKED_SOURCES);
  });

  it('never writes more for a pair than the burst plus the refill of the time elapsed, nor tracks more than its bound', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ wait: fc.integer({ min: 0, max: 5_000 }), source: fc.integer({ min: 0, max: 5 }) }), { maxLength: 300 }),
        (steps) => {
          const { limiter: l, advance } = limiter({ maxTracked: 4 });
          let elapsed = 0;
          let writes = 0;
          for (const { wait, source } of steps) {
            advance(wait);
            elapsed += wait;
            if (l.admit('acme', `192.0.2.${source}`).write && source === 0) writes += 1;
            expect(l.tracked).toBeLessThanOrEqual(4);
          }
          expect(writes).toBeLessThanOrEqual(N + Math.floor(elapsed / REFILL_MS));
        },
      ),
    );
  });
});

describe('sourceKey', () => {
  it.each([
    [undefined, '-'],
    ['203.0.113.7', '203.0.113.7'],
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['2001:db8:0:0:1:2:3:4', '2001:db8:0:0::/64'],
    ['2001:0db8::1', '2001:db8:0:0::/64'],
    ['2001:db8:a:b::', '2001:db8:a:b::/64'],
    ['::1', '0:0:0:0::/64'],
    ['64:ff9b::203.0.113.7', '64:ff9b:0:0::/64'],
  ])('%s → %s', (ip, key) => {
    expect(sourceKey(ip)).toBe(key);
  });
});

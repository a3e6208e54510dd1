import { isIPv6 } from 'node:net';
import type { Clock } from '../clock.ts';

/**
 * Refusal records one (tenant, source) pair may write in a burst, and per minute after that (one
 * every two seconds). Enough for a misconfigured CI job to show up plainly in its tenant's trail;
 * a flood of forged tokens from one source costs that tenant's day partition no more than this.
 */
export const REFUSAL_RECORDS_PER_MINUTE = 30;
/**
 * (tenant, source) pairs tracked at once (a few MB at most). Beyond it, pairs not yet tracked share
 * one bucket of the same size: an attacker spreading over many sources is limited together rather
 * than growing this map, at the price of crowding out other new sources' refusal records.
 */
export const MAX_TRACKED_SOURCES = 10_000;

const MINUTE_MS = 60_000;

interface Bucket {
  tokens: number;
  /** When `tokens` was last brought up to date (and the pair last seen). */
  at: number;
  /** Refusal records suppressed since the pair's last written record. */
  suppressed: number;
}

/** Write the record, carrying how many were suppressed before it; or suppress it. */
export type Admission = { write: true; suppressed: number } | { write: false };

/**
 * The source part of a key. One IPv6 host usually holds a whole /64 and can pick any address in
 * it, so IPv6 sources are keyed by their /64; IPv4-mapped addresses by the IPv4 address.
 */
export function sourceKey(ip: string | undefined): string {
  if (!ip) return '-';
  if (!isIPv6(ip)) return ip;
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  if (mapped) return mapped[1]!;
  // An embedded dotted IPv4 tail takes two of the eight groups.
  const size = (groups: string[]) => groups.reduce((n, g) => n + (g.includes('.') ? 2 : 1), 0);
  const [head = '', tail] = ip.split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const groups =
    tail === undefined ? headGroups : [...headGroups, ...Array<string>(8 - size(headGroups) - size(tailGroups)).fill('0'), ...tailGroups];
  return `${groups
    .slice(0, 4)
    .map((g) => Number.parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}

/**
 * In-process token bucket per (tenant, source address) for the refusal records of the endpoints
 * anyone can call unauthenticated (`/v1/token`, the Cognito vending endpoint): each pair may write
 * {@link REFUSAL_RECORDS_PER_MINUTE} in a burst, refilled at that many per minute. A suppressed
 * refusal is counted, and the count travels on the pair's next written record. In-process means
 * per Lambda instance: a bound on what one instance writes, not a global quota, which would cost a
 * store round trip on every refusal, the very load this avoids.
 */
export class RefusalLimiter {
  readonly #clock: Clock;
  readonly #perMinute: number;
  readonly #maxTracked: number;
  // Least recently seen first: every admit moves its pair to the end, so pairs idle for a minute
  // (their buckets full again, the same as no bucket) are swept from the front, each once.
  readonly #buckets = new Map<string, Bucket>();
  readonly #overflow: Bucket;

  constructor(deps: { clock: Clock; perMinute?: number; maxTracked?: number }) {
    this.#clock = deps.clock;
    this.#perMinute = deps.perMinute ?? REFUSAL_RECORDS_PER_MINUTE;
    this.#maxTracked = deps.maxTracked ?? MAX_TRACKED_SOURCES;
    this.#overflow = { tokens: this.#perMinute, at: this.#clock.now(), suppressed: 0 };
  }

  /** Pairs tracked right now (never more than the bound). */
  get tracked(): number {
    return this.#buckets.size;
  }

  /** Whether the refusal record of `tenant` from `sourceIp` is written now. */
  admit(tenant: string, sourceIp: string | undefined): Admission {
    const now = this.#clock.now();
    // NUL separates: it is in neither a tenant id nor an address.
    const key = `${tenant}\u0000${sourceKey(sourceIp)}`;
    let bucket = this.#buckets.get(key);
    if (bucket !== undefined) this.#buckets.delete(key);
    else {
      this.#sweep(now);
      if (this.#buckets.size >= this.#maxTracked) return this.#take(this.#overflow, now);
      bucket = { tokens: this.#perMinute, at: now, suppressed: 0 };
    }
    this.#buckets.set(key, bucket);
    return this.#take(bucket, now);
  }

  #take(bucket: Bucket, now: number): Admission {
    // A clock stepping back refills nothing (and takes nothing back).
    bucket.tokens = Math.min(this.#perMinute, bucket.tokens + (Math.max(0, now - bucket.at) * this.#perMinute) / MINUTE_MS);
    bucket.at = Math.max(bucket.at, now);
    if (bucket.tokens < 1) {
      bucket.suppressed += 1;
      return { write: false };
    }
    bucket.tokens -= 1;
    const suppressed = bucket.suppressed;
    bucket.suppressed = 0;
    return { write: true, suppressed };
  }

  // A pair idle for a minute is dropped: its bucket is full again. Suppressions it had not yet
  // carried onto a record stay counted in the metric only.
  #sweep(now: number): void {
    for (const [key, bucket] of this.#buckets) {
      if (now - bucket.at < MINUTE_MS) break;
      this.#buckets.delete(key);
    }
  }
}

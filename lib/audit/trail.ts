import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.ts';
import { ServiceUnavailable } from '../errors.ts';
import { describeError, logger } from '../log.ts';
import { countAuditRefusalSuppressed, countAuditWriteFailure } from '../metrics.ts';
import type { AuditRecord, AuditSink } from './ports.ts';
import { RefusalLimiter } from './refusal-limiter.ts';

/** Partition of deployment-wide events (signing keys). Not a valid tenant id, so no tenant can read it. */
export const SYSTEM_TENANT = '_system';
/** Partition of refusals that name no tenant. */
export const UNKNOWN_TENANT = '_unknown';

export type AuditInput = Omit<AuditRecord, 'time'>;

/** A signing key state change, as the key rotation code reports it. */
export interface KeyAuditEvent {
  kid: string;
  from: string;
  to: string;
  forced: boolean;
  actor: string;
}

// Scrubs anything shaped like a compact JWS/JWE, even truncated: attacker-chosen claims (sub,
// aud) end up here, and a record must never carry a token.
const JWT_LIKE = /eyJ[\w-]*\.[\w-]*(?:\.[\w-]*)?/g;
// C0, DEL and C1 controls (U+009B alone starts a terminal escape), the bidi embeddings, overrides
// and isolates, and the line and paragraph separators: a claimed value must not hide or reorder
// what a reader of the trail sees next to it (Unicode TR #9 §2; ECMA-48 §5).
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;
// Either of the above could apply: one scan decides, so the usual clean value (every granted
// token's record passes here) is not copied twice.
const NEEDS_SCRUB = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]|eyJ/;

function text(value: string, max = 256): string {
  const clean = NEEDS_SCRUB.test(value) ? value.replace(CONTROL, '').replace(JWT_LIKE, '[jwt]') : value;
  return clean.length > max ? clean.slice(0, max) : clean;
}

/** The record as it may be stored and logged: strings capped and scrubbed, empty fields dropped. */
export function sanitize(record: AuditRecord): AuditRecord {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record)) {
    if (value === undefined || value === '') continue;
    if (typeof value === 'string') out[key] = text(value);
    else if (Array.isArray(value)) out[key] = value.slice(0, 10).map((v) => text(String(v), 64));
    else if (typeof value === 'object' && value !== null) {
      out[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, typeof v === 'string' ? text(v) : v]));
    } else out[key] = value;
  }
  return out as unknown as AuditRecord;
}

/** A new entry id: `<ISO time>#<12 hex>`, unique and in time order within a day partition. */
export function entryId(time: string): string {
  // randomUUID draws from a cached entropy pool: cheaper than randomBytes for a few bytes.
  return `${time}#${randomUUID().slice(24)}`;
}

/**
 * The audit trail: one record per exchange, token issued, admin change and key state change.
 * Records are written to the sink (the log line, see `sinks.ts`); the table copy follows
 * from the log stream, off the request path.
 *
 * Two write modes, because the two situations differ:
 * - {@link AuditTrail.record} is fail-closed, for grants: a token whose issue cannot be audited
 *   is not handed out (503, the caller retries). Unaudited credentials are exactly what an
 *   attacker would want, and a retry costs the caller little.
 * - {@link AuditTrail.recordApplied} is for changes already applied (admin writes, revocations,
 *   key transitions) and for refusals: failing the call would not undo the change and would
 *   invite a confusing retry, so a failed write is logged and counted (`AuditWriteFailures`)
 *   instead.
 *
 * Refusals of the endpoints anyone can call ({@link AuditTrail.recordRefusal}) are also bounded
 * per tenant and source address, so a flood of forged tokens cannot flood a tenant's trail.
 */
export class AuditTrail {
  readonly #sink: AuditSink;
  readonly #clock: Clock;
  readonly #retentionSeconds: number;
  readonly #refusals: RefusalLimiter;

  constructor(deps: { sink: AuditSink; clock: Clock; retentionDays: number }) {
    this.#sink = deps.sink;
    this.#clock = deps.clock;
    this.#retentionSeconds = deps.retentionDays * 86400;
    this.#refusals = new RefusalLimiter({ clock: deps.clock });
  }

  async #write(input: AuditInput): Promise<void> {
    const now = this.#clock.now();
    const record = sanitize({ time: new Date(now).toISOString(), ...input });
    await this.#sink.write({ ...record, id: entryId(record.time), expires_at: Math.floor(now / 1000) + this.#retentionSeconds });
  }

  /** Fail-closed: throws {@link ServiceUnavailable} when the record cannot be stored. */
  async record(input: AuditInput): Promise<void> {
    try {
      await this.#write(input);
    } catch (e) {
      countAuditWriteFailure();
      logger.error('audit record could not be stored; refusing to issue', { event: input.event, error: describeError(e) });
      throw new ServiceUnavailable('the audit trail is unavailable; nothing was issued, retry later', 1, { cause: e });
    }
  }

  /** Best effort, for what has already happened: never throws; resolves false when the write failed. */
  async recordApplied(input: AuditInput): Promise<boolean> {
    try {
      await this.#write(input);
      return true;
    } catch (e) {
      countAuditWriteFailure();
      logger.error('audit record could not be stored', { event: input.event, tenant: input.tenant, error: describeError(e) });
      return false;
    }
  }

  /**
   * A refused (or failed) request of `/v1/token` or the Cognito vending endpoint: best effort like
   * {@link AuditTrail.recordApplied}, and at most so many per tenant and source address (see
   * `refusal-limiter.ts`). A suppressed record is counted (`AuditRefusalsSuppressed`) and the count
   * goes out as `detail.suppressed` on the pair's next record. Resolves false when nothing was written.
   */
  async recordRefusal(input: AuditInput): Promise<boolean> {
    const admitted = this.#refusals.admit(input.tenant, input.source_ip);
    if (!admitted.write) {
      countAuditRefusalSuppressed();
      return false;
    }
    return this.recordApplied(admitted.suppressed > 0 ? { ...input, detail: { ...input.detail, suppressed: admitted.suppressed } } : input);
  }

  /**
   * Records a signing key state change (`from` → `to`), for the key rotation code's
   * `onKeyEvent` hook. Bound, so it can be passed around as a plain function.
   */
  readonly keyEvent = async (event: KeyAuditEvent): Promise<void> => {
    await this.recordApplied({
      event: 'key.state_change',
      outcome: 'success',
      tenant: SYSTEM_TENANT,
      principal: event.actor,
      target: event.kid,
      detail: { from: event.from, to: event.to, forced: event.forced },
    });
  };
}

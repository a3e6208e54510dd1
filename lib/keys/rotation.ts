import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import { ConflictError, NotFound } from '../errors.ts';
import { logger } from '../log.ts';
import { MAX_PUBLISHED_KEYS } from './keyring.ts';
import type { KeyRecord, KeyStatus, KeyStore, Signer } from './ports.ts';
import { jwkThumbprint } from './thumbprint.ts';

export interface RotationDeps {
  store: KeyStore;
  signer: Signer;
  clock: Clock;
  config: Pick<Config, 'keys'>;
  /** Receives every key state change, for the audit trail. */
  onKeyEvent?: (event: KeyEvent) => void | Promise<void>;
}

export interface KeyEvent {
  kid: string;
  from: KeyStatus | 'none';
  to: KeyStatus | 'removed';
  forced: boolean;
  actor: string;
}

export interface RotationReport {
  events: KeyEvent[];
  /** Why nothing (more) happened, when it did not. */
  skipped?: string;
  /**
   * Set when the next key is published but may not sign yet (epoch seconds it may): the normal first
   * half of a rotation by hand, not a failure; run again from then, or `--force` in an emergency.
   */
  readyAt?: number;
}

const LEASE_SECONDS = 300;

/** Runs `fn` holding the rotation lease, so two rotations never interleave their steps. */
async function withLease<T>(deps: RotationDeps, fn: () => Promise<T>): Promise<T | undefined> {
  const owner = randomUUID();
  const now = Math.floor(deps.clock.now() / 1000);
  if (!(await deps.store.acquireRotationLease(owner, now, now + LEASE_SECONDS))) return undefined;
  try {
    return await fn();
  } finally {
    await deps.store.releaseRotationLease(owner);
  }
}

async function transition(
  deps: RotationDeps,
  events: KeyEvent[],
  record: KeyRecord,
  to: KeyStatus,
  extra: Partial<KeyRecord>,
  meta: { forced: boolean; actor: string },
) {
  const next: KeyRecord = { ...record, ...extra, status: to, version: record.version + 1 };
  if (!(await deps.store.updateKey(next, record.version))) throw new ConflictError(`key ${record.kid} changed concurrently; retry`);
  const event: KeyEvent = { kid: record.kid, from: record.status, to, ...meta };
  events.push(event);
  await deps.onKeyEvent?.(event);
  return next;
}

async function createNext(deps: RotationDeps, events: KeyEvent[], meta: { forced: boolean; actor: string }): Promise<KeyRecord> {
  const info = await deps.signer.createKey();
  const record: KeyRecord = {
    kid: jwkThumbprint(info.jwk),
    alg: info.alg,
    signer: deps.signer.kind,
    keyRef: info.keyRef,
    status: 'next',
    origin: 'rotation',
    createdAt: Math.floor(deps.clock.now() / 1000),
    ...(info.material ? { material: info.material } : {}),
    version: 1,
  };
  await deps.store.createKey(record);
  const event: KeyEvent = { kid: record.kid, from: 'none', to: 'next', ...meta };
  events.push(event);
  await deps.onKeyEvent?.(event);
  return record;
}

/**
 * Makes `next` the active key: the conditional move of the single active pointer decides the
 * winner when two rotations race, so exactly one key is ever active. The old key is retired and
 * stays published until every token it signed has expired plus the JWKS cache lifetime.
 */
async function activate(
  deps: RotationDeps,
  events: KeyEvent[],
  next: KeyRecord,
  current: KeyRecord | undefined,
  pointerVersion: number | undefined,
  meta: { forced: boolean; actor: string },
) {
  const now = Math.floor(deps.clock.now() / 1000);
  if (!(await deps.store.setActivePointer(next.kid, pointerVersion))) throw new ConflictError('another rotation activated a key first');
  if (meta.forced) logger.warn('signing key activated before its pre-publication window (forced)', { kid: next.kid, actor: meta.actor });
  await transition(deps, events, next, 'active', { activatedAt: now }, meta);
  if (current)
    await transition(deps, events, current, 'retired', { retiredAt: now, publishUntil: now + deps.config.keys.retirementSeconds }, meta);
}

/**
 * One rotation pass (run daily by the scheduled function, or by `fedbroker admin rotate-keys`):
 * removes retired keys past their publication window (scheduling KMS deletion), publishes a `next`
 * key when there is none, and activates the `next` key once the active one is older than the
 * rotation period — but only after `next` has been published for the pre-publication window, so
 * verifiers caching the JWKS already know it. `force` activates at once (emergencies; logged).
 */
export async function rotateKeys(
  deps: RotationDeps,
  options: { force?: boolean; actor: string /** Asked for by an operator: report when the next key may sign. */; manual?: boolean },
): Promise<RotationReport> {
  const result = await withLease(deps, async () => {
    const events: KeyEvent[] = [];
    const meta = { forced: Boolean(options.force), actor: options.actor };
    const now = Math.floor(deps.clock.now() / 1000);
    const { keys, active } = await deps.store.readRegistry();
    for (const key of keys.filter((k) => k.status === 'retired' && (k.publishUntil ?? 0) <= now)) {
      await deps.signer.destroyKey(key);
      await deps.store.deleteKey(key.kid);
      const event: KeyEvent = { kid: key.kid, from: 'retired', to: 'removed', ...meta };
      events.push(event);
      await deps.onKeyEvent?.(event);
    }
    const current = keys.find((k) => k.kid === active?.kid);
    const published = keys.filter(
      (k) => k.status === 'next' || k.status === 'active' || (k.status === 'retired' && (k.publishUntil ?? 0) > now),
    );
    let next = keys.filter((k) => k.status === 'next').sort((a, b) => a.createdAt - b.createdAt)[0];
    if (!next) {
      if (published.length >= MAX_PUBLISHED_KEYS) return { events, skipped: `the JWKS already holds ${MAX_PUBLISHED_KEYS} keys` };
      next = await createNext(deps, events, meta);
    }
    const due =
      options.force || options.manual || !current || now - (current.activatedAt ?? current.createdAt) >= deps.config.keys.rotationSeconds;
    if (!due) return { events, skipped: 'the active key is younger than the rotation period' };
    const readyAt = next.createdAt + deps.config.keys.prePublishSeconds;
    if (now < readyAt && !options.force) {
      const reason =
        `next key ${next.kid} is published until ${new Date(readyAt * 1000).toISOString()} before it may ` +
        `sign; use --force in an emergency`;
      return { events, skipped: reason, ...(options.manual ? { readyAt } : {}) };
    }
    await activate(deps, events, next, current, active?.version, meta);
    return { events };
  });
  return result ?? { events: [], skipped: 'another rotation holds the lease' };
}

/**
 * Emergency revocation: the key leaves the JWKS at once (warm containers within their key cache
 * bound) and its private material is destroyed. Revoking the active key first activates the
 * `next` key (or a new one) without waiting for pre-publication.
 */
export async function revokeKey(deps: RotationDeps, kid: string, actor: string): Promise<RotationReport> {
  const result = await withLease(deps, async () => {
    const events: KeyEvent[] = [];
    const meta = { forced: true, actor };
    const { keys, active } = await deps.store.readRegistry();
    const target = keys.find((k) => k.kid === kid);
    if (!target || target.status === 'revoked') throw new NotFound(`no published key ${kid.slice(0, 64)}`);
    let record = target;
    if (active?.kid === kid) {
      const next = keys.find((k) => k.status === 'next') ?? (await createNext(deps, events, meta));
      await activate(deps, events, next, undefined, active.version, meta);
    }
    record = await transition(deps, events, record, 'revoked', { revokedAt: Math.floor(deps.clock.now() / 1000) }, meta);
    await deps.signer.destroyKey(record);
    return { events };
  });
  if (!result) throw new ConflictError('another rotation holds the lease; retry');
  return result;
}

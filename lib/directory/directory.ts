import type { Clock } from '../clock.ts';
import type { CognitoPool } from '../cognito/schema.ts';
import type { Revocation } from '../revocation/ports.ts';
import { compileRelationship, type CompiledTrust, type TrustContext } from '../trust/policy.ts';
import { evaluatedRelationships } from '../tenants/evaluated-relationships.ts';
import type { Tenant } from '../tenants/tenant.ts';
import { describeError, logger } from '../log.ts';
import type { TenantRecord, TrustStore } from './ports.ts';
import type { TrustAnchor } from '../x509/anchor.ts';

export interface TenantView {
  tenant: Tenant | undefined;
  /** Enabled relationships that compile, ordered by id (deterministic matching). */
  trusts: CompiledTrust[];
  /** Enabled outbound identity pools. */
  pools: CognitoPool[];
  /** X.509 trust anchors, enabled or not (a disabled one is told apart in audit reasons only). */
  anchors?: TrustAnchor[];
  /** The tenant's revoked access-token `jti`s and until when (epoch seconds); compare at the time of use. */
  revoked: ReadonlyMap<string, number>;
}

/**
 * The exchange path's read model of tenants: one store query per tenant per `ttlSeconds` in a
 * warm container. `ttlSeconds` is therefore the documented bound on how long a disabled tenant or
 * relationship, or a revoked access token, can still be used by an already-warm container.
 */
export class TenantDirectory {
  readonly #store: TrustStore;
  readonly #clock: Clock;
  readonly #ttlMs: number;
  readonly #context: TrustContext;
  readonly #cache = new Map<string, CacheEntry>();

  constructor(deps: { store: TrustStore; clock: Clock; ttlSeconds: number; context: TrustContext }) {
    this.#context = deps.context;
    this.#store = deps.store;
    this.#clock = deps.clock;
    this.#ttlMs = deps.ttlSeconds * 1000;
  }

  /** Drops a tenant's cached view (after an admin write or a revocation in this container). */
  invalidate(tenant: string): void {
    this.#cache.delete(tenant);
  }

  get(tenant: string): Promise<TenantView> {
    const now = this.#clock.now();
    const hit = this.#cache.get(tenant);
    if (hit && now - hit.at < this.#ttlMs) return hit.view;
    return this.#read(tenant, now).view;
  }

  /**
   * The tenant's stored record as read at or after `since` (a `performance.now()` instant: when
   * the caller's request began). The cached read is reused when it started then or later, else the
   * store is read again (and the cache keeps that newer read). A strongly consistent read started
   * after a request began reflects every write acknowledged before the request (DynamoDB developer
   * guide, "Read consistency"), so an admin read sees the latest writes as a direct store read
   * would, and a cold container's admin request reuses its own tenant prefetch (threat model I1)
   * instead of reading the same partition twice in a row. The cache is keyed by tenant: the read
   * of another tenant's partition is never returned.
   */
  readSince(tenant: string, since: number): Promise<TenantRecord> {
    return this.readMadeSince(tenant, since) ?? this.#read(tenant, this.#clock.now()).record;
  }

  /** The cached read of {@link readSince} when there is one, else undefined (and nothing is read). */
  readMadeSince(tenant: string, since: number): Promise<TenantRecord> | undefined {
    const hit = this.#cache.get(tenant);
    return hit && hit.startedAt >= since ? hit.record : undefined;
  }

  #read(tenant: string, now: number): CacheEntry {
    const startedAt = performance.now();
    const record = this.#store.readTenant(tenant);
    const view = record.then(({ tenant: t, relationships, pools, anchors, revocations }) => ({
      tenant: t,
      anchors: anchors ?? [],
      pools: pools.filter((p) => p.enabled),
      revoked: latestExpiry(revocations),
      // Enabled, with a generation, the first 100 by id: the set every explanation describes.
      trusts: evaluatedRelationships(relationships).flatMap((r) => {
        try {
          return [compileRelationship(r, this.#context)];
        } catch (e) {
          logger.error('stored trust relationship does not compile; it can never match', {
            tenant,
            trust: r.id,
            error: describeError(e),
          });
          return [];
        }
      }),
    }));
    if (this.#cache.size > 10_000) this.#cache.clear();
    const entry = { at: now, startedAt, record, view };
    this.#cache.set(tenant, entry);
    // A failed read is not kept; a newer read that replaced it meanwhile stays.
    view.catch(() => {
      if (this.#cache.get(tenant) === entry) this.#cache.delete(tenant);
    });
    return entry;
  }
}

interface CacheEntry {
  /** Clock time of the read, for the cache bound. */
  at: number;
  /** `performance.now()` when the read started, for {@link TenantDirectory.readSince}. */
  startedAt: number;
  record: Promise<TenantRecord>;
  view: Promise<TenantView>;
}

/** jti → the latest `exp` among its entries (a race can leave two entries for one jti). */
function latestExpiry(revocations: readonly Revocation[]): Map<string, number> {
  const revoked = new Map<string, number>();
  for (const r of revocations) revoked.set(r.jti, Math.max(r.exp, revoked.get(r.jti) ?? r.exp));
  return revoked;
}

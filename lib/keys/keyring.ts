import type { JWK } from 'jose';
import type { Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import { KeyUnavailable, ServiceUnavailable } from '../errors.ts';
import { logger } from '../log.ts';
import type { KeyRecord, KeyStore, Signer } from './ports.ts';
import { jwkThumbprint } from './thumbprint.ts';

export interface PublishedKey extends JWK {
  kid: string;
  alg: string;
  use: 'sig';
}

export interface KeyRingDeps {
  store: KeyStore;
  signer: Signer;
  clock: Clock;
  config: Pick<Config, 'keyCacheSeconds'>;
}

interface Snapshot {
  loadedAt: number;
  keys: KeyRecord[];
  activeKid: string | undefined;
}

/**
 * The container's view of the key registry: read from the store at most once per
 * `keyCacheSeconds`, public keys fetched from the signer once per key per container.
 * A warm container signs with 0 store reads and 1 signer call per token.
 */
export class KeyRing {
  #cached: Snapshot | undefined;
  #everLoaded = false;
  #inflight: Promise<Snapshot> | undefined;
  #publicKeys = new Map<string, Promise<JWK>>();
  #published: { snap: Snapshot; second: number; keys: Promise<readonly PublishedKey[]> } | undefined;

  private readonly deps: KeyRingDeps;
  constructor(deps: KeyRingDeps) {
    this.deps = deps;
  }

  /** True until this container's first registry read has succeeded: its first request is under way. */
  get cold(): boolean {
    return !this.#everLoaded;
  }

  /**
   * While cold, starts loading the registry and the published public keys, so a grant's own work
   * (verifying a certificate or an upstream token) overlaps the reads its minting will wait for.
   * The same reads the first grant of a container makes anyway; nothing is judged on them, a
   * failure is left to the request that needs them, and a warm container reads nothing here.
   */
  warm(): void {
    if (this.cold) this.publishedKeys().catch(() => undefined);
  }

  /** Forgets the cached registry, e.g. after a rotation by this container. */
  invalidate(): void {
    this.#cached = undefined;
  }

  async #load(): Promise<Snapshot> {
    const now = this.deps.clock.now();
    const cached = this.#cached;
    if (cached && now - cached.loadedAt < this.deps.config.keyCacheSeconds * 1000) return cached;
    // One read in flight per container; a failed read is not cached, the next request retries.
    this.#inflight ??= this.#read(now)
      .then((snap) => {
        this.#everLoaded = true;
        this.#cached = snap;
        return snap;
      })
      .finally(() => (this.#inflight = undefined));
    return this.#inflight;
  }

  async #read(now: number): Promise<Snapshot> {
    let registry = await this.deps.store.readRegistry();
    if (!registry.active) {
      await this.#bootstrap(now);
      registry = await this.deps.store.readRegistry();
    }
    return { loadedAt: now, keys: registry.keys, activeKid: registry.active?.kid };
  }

  /**
   * First start of a deployment: registers the signer's bootstrap key (the KMS key serverless.yml
   * created, the local key file, or a first data key) and makes it active. Both writes are
   * conditional, so containers starting together agree on one active key.
   */
  async #bootstrap(now: number): Promise<void> {
    const info = await this.deps.signer.bootstrapKey();
    const kid = jwkThumbprint(info.jwk);
    const at = Math.floor(now / 1000);
    await this.deps.store.createKey({
      kid,
      alg: info.alg,
      signer: this.deps.signer.kind,
      keyRef: info.keyRef,
      status: 'active',
      origin: 'bootstrap',
      createdAt: at,
      activatedAt: at,
      ...(info.material ? { material: info.material } : {}),
      version: 1,
    });
    const won = await this.deps.store.setActivePointer(kid, undefined);
    logger.info('signing key registry bootstrapped', { kid, alg: info.alg, won });
  }

  async #publicKey(record: KeyRecord): Promise<JWK> {
    let pending = this.#publicKeys.get(record.kid);
    if (!pending) {
      pending = this.deps.signer.publicKey(record).then(async (info) => {
        // The kid is the thumbprint: a registry entry pointing at a different key is refused.
        const thumbprint = jwkThumbprint(info.jwk);
        if (thumbprint !== record.kid || info.alg !== record.alg) {
          throw new KeyUnavailable(`key ${record.kid} does not match its registry entry`);
        }
        return info.jwk;
      });
      this.#publicKeys.set(record.kid, pending);
      pending.catch(() => this.#publicKeys.delete(record.kid));
    }
    return pending;
  }

  /** The key that signs now. */
  async activeKey(): Promise<KeyRecord> {
    const snap = await this.#load();
    const key = snap.keys.find((k) => k.kid === snap.activeKid);
    if (!key) throw new ServiceUnavailable('no active signing key', 30);
    return key;
  }

  /**
   * Every public key a verifier may meet: active, next, and retired keys still inside their
   * publication window — never revoked ones, and never more than {@link MAX_PUBLISHED_KEYS}.
   * A key the signer no longer has is left out and logged; the rest are served. The list is
   * frozen and computed once per registry snapshot and clock second (what it depends on), since
   * every access-token use asks for it.
   */
  async publishedKeys(): Promise<readonly PublishedKey[]> {
    const snap = await this.#load();
    const nowSeconds = Math.floor(this.deps.clock.now() / 1000);
    const memo = this.#published;
    if (memo && memo.snap === snap && memo.second === nowSeconds) return memo.keys;
    const keys = this.#visibleKeys(snap, nowSeconds);
    this.#published = { snap, second: nowSeconds, keys };
    keys.catch(() => {
      if (this.#published?.keys === keys) this.#published = undefined;
    });
    return keys;
  }

  async #visibleKeys(snap: Snapshot, nowSeconds: number): Promise<readonly PublishedKey[]> {
    const visible = snap.keys
      .filter((k) => k.kid === snap.activeKid || k.status === 'next' || (k.status === 'retired' && (k.publishUntil ?? 0) > nowSeconds))
      .sort((a, b) => rank(snap, a) - rank(snap, b) || b.createdAt - a.createdAt)
      .slice(0, MAX_PUBLISHED_KEYS);
    const results = await Promise.all(
      visible.map(async (record) => {
        try {
          const jwk = await this.#publicKey(record);
          return {
            kty: jwk.kty,
            crv: jwk.crv,
            n: jwk.n,
            e: jwk.e,
            x: jwk.x,
            y: jwk.y,
            kid: record.kid,
            alg: record.alg,
            use: 'sig' as const,
          };
        } catch (e) {
          if (e instanceof KeyUnavailable) {
            logger.warn('signing key left out of JWKS', { kid: record.kid, reason: e.message });
            return undefined;
          }
          throw e;
        }
      }),
    );
    // Stable order (active, next, then retired newest first) keeps the ETag stable across containers.
    return Object.freeze(
      results
        .filter((k): k is NonNullable<typeof k> => k !== undefined)
        .map((k) => Object.freeze(JSON.parse(JSON.stringify(k)) as PublishedKey)),
    );
  }
}

/** AWS accepts 100 keys per JWKS; fedbroker stays far below so verifiers' fetches stay small. */
export const MAX_PUBLISHED_KEYS = 10;

function rank(snap: Snapshot, key: KeyRecord): number {
  if (key.kid === snap.activeKid) return 0;
  return key.status === 'next' ? 1 : 2;
}

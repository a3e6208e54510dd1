import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { JWK } from 'jose';
import type { Clock } from '../clock.ts';
import { ServiceUnavailable, SubjectTokenInvalid } from '../errors.ts';
import { createFetch, fetchLimited, UpstreamFetchError, type Fetch } from '../net/fetch.ts';
import { describeError, logger } from '../log.ts';
import { checkIssuerUrl, sameOriginOrDeclared } from '../net/issuer-url.ts';

/** Options of {@link UpstreamKeys}. Durations are milliseconds, measured with `clock`. */
export interface UpstreamKeysOptions {
  fetch?: Fetch;
  clock: Clock;
  /** Deadline for one refresh: discovery and JWKS together, bodies included. */
  timeoutMs?: number;
  /** Cap on each discovery / JWKS document. */
  maxBytes?: number;
  /** How long a fetched key set is used without asking the issuer again. */
  ttlMs?: number;
  /** Minimum time between two fetches for one issuer, successful or not. */
  cooldownMs?: number;
  /** How long an old key set keeps being used while the issuer cannot be reached. */
  staleIfErrorMs?: number;
  /** Local development: allows http://localhost-style issuers (see `checkIssuerUrl`). */
  local?: boolean;
  /** Hosts other than the issuer's that may serve its JWKS (see `sameOriginOrDeclared`). */
  allowedJwksHosts?: string[];
  /** Told the result of every refresh attempt (for metrics); must not throw. */
  onFetch?: (ok: boolean) => void;
}

const MAX_KEYS = 100;

/** The one curve each ECDSA algorithm is defined with (RFC 7518 §3.4). */
const CURVES: Record<string, string> = { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' };

interface KeySet {
  keys: JWK[];
  fetchedAt: number;
  imported: Map<string, KeyObject>;
  /**
   * Which key a (kid, alg) selected: only keys that exist are remembered, so the map is bounded
   * by the set (kids are attacker-chosen; an unknown one is looked up again, and costs as before).
   */
  selected: Map<string, number>;
}

interface IssuerState {
  /** The issuer's URL, checked once (checkIssuerUrl depends on nothing but the issuer and `local`). */
  url: URL;
  set?: KeySet;
  inflight?: Promise<void>;
  lastAttemptAt?: number;
  lastAttemptFailed: boolean;
}

/** A discovery or JWKS document that was fetched but cannot be trusted or used. */
class UpstreamDocumentInvalid extends Error {
  override name = 'UpstreamDocumentInvalid';
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** True when `jwk` may verify a JWS with `alg`: right family and size, a public signing key. */
function usableFor(jwk: JWK, alg: string): boolean {
  if ('d' in jwk) return false; // a private key published by mistake is not something to trust
  if (jwk.use !== undefined && jwk.use !== 'sig') return false;
  if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes('verify'))) return false;
  // RFC 8725 §3.1: the algorithm is fixed by the key, never widened by the token.
  if (jwk.alg !== undefined && jwk.alg !== alg) return false;
  if (/^(RS|PS)\d{3}$/.test(alg)) {
    // RFC 7518 §3.3: RSA keys of 2048 bits or more; smaller ones are skipped, not an error.
    return jwk.kty === 'RSA' && typeof jwk.n === 'string' && Buffer.from(jwk.n, 'base64url').length >= 256;
  }
  const crv = CURVES[alg];
  return crv !== undefined && jwk.kty === 'EC' && jwk.crv === crv;
}

/**
 * Per-issuer cache of upstream signing keys, fetched through OIDC Discovery 1.0 §4.
 *
 * One fetch per issuer is in flight at a time and every fetch, failed or not, starts a cooldown:
 * a flood of tokens with unknown `kid`s, or of exchanges during an upstream outage, costs the
 * upstream at most one discovery + JWKS round trip per cooldown. While the issuer is down, a key
 * set younger than `staleIfErrorMs` keeps being used.
 */
export class UpstreamKeys {
  readonly #fetch: Fetch;
  readonly #clock: Clock;
  readonly #timeoutMs: number;
  readonly #maxBytes: number;
  readonly #ttlMs: number;
  readonly #cooldownMs: number;
  readonly #staleIfErrorMs: number;
  readonly #local: boolean;
  readonly #allowedJwksHosts: string[];
  readonly #onFetch: (ok: boolean) => void;
  readonly #states = new Map<string, IssuerState>();
  #fetches = 0;

  constructor(opts: UpstreamKeysOptions) {
    // Without a port, the production fetch: every resolved address checked, loopback only when local.
    this.#fetch = opts.fetch ?? createFetch({ local: opts.local ?? false });
    this.#clock = opts.clock;
    this.#timeoutMs = opts.timeoutMs ?? 3000;
    this.#maxBytes = opts.maxBytes ?? 100 * 1024;
    this.#ttlMs = opts.ttlMs ?? 10 * 60_000;
    this.#cooldownMs = opts.cooldownMs ?? 30_000;
    this.#staleIfErrorMs = opts.staleIfErrorMs ?? 6 * 3_600_000;
    this.#local = opts.local ?? false;
    this.#allowedJwksHosts = opts.allowedJwksHosts ?? [];
    const onFetch = opts.onFetch ?? (() => undefined);
    // Guarded so that a faulty hook can never turn a refresh into a rejection.
    this.#onFetch = (ok) => {
      try {
        onFetch(ok);
      } catch {
        // metrics are best effort
      }
    };
  }

  /** Counters for tests and metrics: `fetches` counts refresh attempts (discovery + JWKS). */
  stats(): { fetches: number } {
    return { fetches: this.#fetches };
  }

  /**
   * The issuer's public key for a JWS with this header.
   *
   * @throws PolicyInvalid when `issuer` is not a URL we may fetch.
   * @throws SubjectTokenInvalid `unknown_key` when no published key matches `kid` and `alg`.
   * @throws ServiceUnavailable when the issuer's keys cannot be fetched and none are cached.
   */
  async getKey(issuer: string, header: { kid?: string; alg: string }): Promise<KeyObject> {
    let state = this.#states.get(issuer);
    if (!state) {
      // Throws for an issuer we may not fetch, which then never gets a state: checked every time.
      state = { url: checkIssuerUrl(issuer, { local: this.#local }), lastAttemptFailed: false };
      this.#states.set(issuer, state);
    }
    const url = state.url;
    if (state.inflight) await state.inflight;

    const fresh = (s: KeySet | undefined) => s !== undefined && this.#clock.now() - s.fetchedAt < this.#ttlMs;
    if (!fresh(state.set) && this.#mayFetch(state)) await this.#refresh(issuer, url, state);
    let set = this.#usable(state);

    let found = set && this.#select(set, header);
    if (found === undefined && this.#mayFetch(state)) {
      // A new kid usually means the issuer rotated keys: look once, then wait for the cooldown.
      await this.#refresh(issuer, url, state);
      set = this.#usable(state);
      found = set && this.#select(set, header);
    }
    if (!set || (found === undefined && state.lastAttemptFailed)) {
      const wait = (state.lastAttemptAt ?? 0) + this.#cooldownMs - this.#clock.now();
      throw new ServiceUnavailable("the subject token issuer's keys cannot be fetched; retry later", Math.max(1, Math.ceil(wait / 1000)));
    }
    if (found === undefined) throw new SubjectTokenInvalid('unknown_key', "no key of the issuer matches the token's kid and alg");
    return this.#import(set, found, header.alg);
  }

  #mayFetch(state: IssuerState): boolean {
    return state.inflight !== undefined || state.lastAttemptAt === undefined || this.#clock.now() - state.lastAttemptAt >= this.#cooldownMs;
  }

  /** The key set to use now: fresh, or stale but within stale-if-error. */
  #usable(state: IssuerState): KeySet | undefined {
    const set = state.set;
    if (!set) return undefined;
    const age = this.#clock.now() - set.fetchedAt;
    return age < this.#ttlMs || age < this.#staleIfErrorMs ? set : undefined;
  }

  /** Index of the one key for this header; undefined when none matches. */
  #select(set: KeySet, header: { kid?: string; alg: string }): number | undefined {
    // A kid is a non-empty string (verify.ts checkHeader), so NUL stands for "no kid".
    const memo = `${header.alg}\u0000${header.kid ?? '\u0000'}`;
    const known = set.selected.get(memo);
    if (known !== undefined) return known;
    const matches: number[] = [];
    set.keys.forEach((jwk, i) => {
      if ((header.kid === undefined || jwk.kid === header.kid) && usableFor(jwk, header.alg)) matches.push(i);
    });
    if (matches.length > 1) {
      // Trying several keys would turn one token into many verifications; ask for a kid instead.
      throw new SubjectTokenInvalid('unknown_key', 'several keys of the issuer match the token; a unique kid is required');
    }
    if (matches[0] !== undefined) set.selected.set(memo, matches[0]);
    return matches[0];
  }

  /**
   * A node:crypto key, made once per key set: lib/upstream/verify.ts checks signatures with
   * node:crypto in this thread (no WebCrypto job per token).
   */
  #import(set: KeySet, index: number, alg: string): KeyObject {
    const cacheKey = `${index}:${alg}`;
    let key = set.imported.get(cacheKey);
    if (!key) {
      try {
        // Only the members a public key is made of: the JWK also carries kid, use, alg, x5c, …
        const { kty, n, e, crv, x, y } = set.keys[index]!;
        const members = Object.entries({ kty, n, e, crv, x, y }).filter(([, v]) => v !== undefined);
        key = createPublicKey({ key: Object.fromEntries(members) as JsonWebKey, format: 'jwk' });
      } catch (e) {
        logger.warn('upstream key could not be imported', { error: describeError(e) });
        throw new SubjectTokenInvalid('unknown_key', "the issuer's key for this token is unusable");
      }
      set.imported.set(cacheKey, key);
    }
    return key;
  }

  /** Starts (or joins) the one fetch for this issuer; never rejects. */
  #refresh(issuer: string, url: URL, state: IssuerState): Promise<void> {
    if (state.inflight) return state.inflight;
    state.lastAttemptAt = this.#clock.now();
    this.#fetches += 1;
    state.inflight = this.#download(issuer, url)
      .then(
        (keys) => {
          state.set = { keys, fetchedAt: this.#clock.now(), imported: new Map(), selected: new Map() };
          state.lastAttemptFailed = false;
          this.#onFetch(true);
        },
        (e: unknown) => {
          state.lastAttemptFailed = true;
          this.#onFetch(false);
          logger.warn('upstream key refresh failed', {
            issuerHost: url.host,
            keepingStaleKeys: this.#usable(state) !== undefined,
            error: describeError(e),
          });
        },
      )
      .finally(() => {
        state.inflight = undefined;
      });
    return state.inflight;
  }

  async #download(issuer: string, url: URL): Promise<JWK[]> {
    // One deadline for the refresh, not one per document: the exchange waiting on it must fail
    // within the configured timeout, so the JWKS gets only what discovery left of it.
    const deadline = this.#clock.now() + this.#timeoutMs;
    const limits = () => {
      const timeoutMs = deadline - this.#clock.now();
      if (timeoutMs <= 0) throw new UpstreamFetchError('timeout', `upstream did not answer within ${this.#timeoutMs} ms`);
      return { timeoutMs, maxBytes: this.#maxBytes, clock: this.#clock };
    };
    // OIDC Discovery 1.0 §4.1: the path is appended to the issuer, minus any trailing slash.
    const discoveryUrl = `${url.href.replace(/\/$/, '')}/.well-known/openid-configuration`;
    const discovery = await fetchLimited(this.#fetch, discoveryUrl, limits());
    // §4.3: the document's issuer MUST be identical to the issuer it was fetched for, otherwise
    // one issuer could publish keys (and so mint tokens) for another.
    if (!isObject(discovery) || discovery.issuer !== issuer) {
      throw new UpstreamDocumentInvalid('discovery document names a different issuer');
    }
    if (typeof discovery.jwks_uri !== 'string') throw new UpstreamDocumentInvalid('discovery document has no jwks_uri');
    const jwksUri = sameOriginOrDeclared(url, discovery.jwks_uri, { local: this.#local, allowedJwksHosts: this.#allowedJwksHosts });
    const jwks = await fetchLimited(this.#fetch, jwksUri.href, limits());
    if (!isObject(jwks) || !Array.isArray(jwks.keys)) throw new UpstreamDocumentInvalid('JWKS has no keys array');
    // Bounds the work one verification can cause; real issuers publish a handful of keys.
    if (jwks.keys.length > MAX_KEYS) throw new UpstreamDocumentInvalid(`JWKS has more than ${MAX_KEYS} keys`);
    return jwks.keys.filter((k): k is JWK => isObject(k) && typeof k.kty === 'string');
  }
}

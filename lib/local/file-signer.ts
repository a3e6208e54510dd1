import { createPrivateKey, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JWK } from 'jose';
import type { SigningAlg } from '../config.ts';
import { KeyUnavailable } from '../errors.ts';
import type { KeyRecord, PublicKeyInfo, Signer } from '../keys/ports.ts';
import { signWithKey } from '../keys/sign-with-key.ts';

const BOOTSTRAP_FILE = 'signing-key.json';

/**
 * Local-run signer: key pairs kept as JWK files under the data folder with mode 0600, the first
 * generated on first start. Refused by config outside FEDBROKER_LOCAL=true; never for production.
 */
export class FileSigner implements Signer {
  readonly kind = 'local' as const;
  readonly #keys = new Map<string, KeyObject>();
  private readonly dataDir: string;
  private readonly alg: SigningAlg;
  readonly #offload: boolean;
  /** `offload`: sign in the thread pool (see {@link signWithKey}). */
  constructor(dataDir: string, alg: SigningAlg, offload = false) {
    this.dataDir = dataDir;
    this.alg = alg;
    this.#offload = offload;
  }

  #path(keyRef: string): string {
    if (!/^[\w.-]+\.json$/.test(keyRef)) throw new KeyUnavailable('bad local key reference');
    return join(this.dataDir, keyRef);
  }

  #load(keyRef: string, create: boolean): KeyObject {
    const cached = this.#keys.get(keyRef);
    if (cached) return cached;
    const path = this.#path(keyRef);
    let jwk: JWK;
    try {
      jwk = JSON.parse(readFileSync(path, 'utf8')) as JWK;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || !create) throw new KeyUnavailable('local key file unreadable', { cause: e });
      jwk = this.#generate(path);
    }
    const key = createPrivateKey({ key: jwk as never, format: 'jwk' });
    this.#keys.set(keyRef, key);
    return key;
  }

  #generate(path: string): JWK {
    mkdirSync(this.dataDir, { recursive: true, mode: 0o700 });
    const { privateKey } =
      this.alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = privateKey.export({ format: 'jwk' }) as JWK;
    try {
      // `wx`: if two processes start together, the first file wins and the other reads it.
      writeFileSync(path, JSON.stringify(jwk), { mode: 0o600, flag: 'wx' });
      return jwk;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return JSON.parse(readFileSync(path, 'utf8')) as JWK;
      throw e;
    }
  }

  #describe(keyRef: string, create: boolean): PublicKeyInfo {
    const { kty, crv, x, y, n, e } = this.#load(keyRef, create).export({ format: 'jwk' }) as JWK;
    const jwk = JSON.parse(JSON.stringify({ kty, crv, x, y, n, e })) as JWK;
    return { keyRef, alg: jwk.kty === 'EC' ? 'ES256' : 'RS256', jwk };
  }

  async bootstrapKey() {
    return this.#describe(BOOTSTRAP_FILE, true);
  }

  async createKey() {
    return this.#describe(`signing-key-${randomUUID()}.json`, true);
  }

  async publicKey(record: KeyRecord) {
    return this.#describe(record.keyRef, false);
  }

  async sign(record: KeyRecord, data: Uint8Array): Promise<Uint8Array> {
    return signWithKey(record.alg, this.#load(record.keyRef, false), data, this.#offload);
  }

  async destroyKey(record: KeyRecord): Promise<void> {
    this.#keys.delete(record.keyRef);
    rmSync(this.#path(record.keyRef), { force: true });
  }
}

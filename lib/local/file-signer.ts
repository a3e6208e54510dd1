import { createPrivateKey, generateKeyPairSync, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JWK } from 'jose';
import type { SigningAlg } from '../config.ts';
import { KeyUnavailable } from '../errors.ts';
import type { PublicKeyInfo, Signer } from '../keys/ports.ts';

/**
 * Local-run signer: a key pair generated on first start and kept in `<dataDir>/<keyRef>` with
 * mode 0600. Refused by config outside FEDBROKER_LOCAL=true; never for production.
 */
export class FileSigner implements Signer {
  readonly kind = 'local' as const;
  #keys = new Map<string, KeyObject>();

  private readonly dataDir: string;
  private readonly alg: SigningAlg;
  constructor(dataDir: string, alg: SigningAlg) {
    this.dataDir = dataDir;
    this.alg = alg;
  }

  #load(keyRef: string): KeyObject {
    if (!/^[\w.-]+\.json$/.test(keyRef)) throw new KeyUnavailable('bad local key reference');
    const cached = this.#keys.get(keyRef);
    if (cached) return cached;
    const path = join(this.dataDir, keyRef);
    let jwk: JWK;
    try {
      jwk = JSON.parse(readFileSync(path, 'utf8')) as JWK;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new KeyUnavailable('local key file unreadable', { cause: e });
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

  async describe(keyRef: string): Promise<PublicKeyInfo> {
    const key = this.#load(keyRef);
    const jwk = createPublicKeyJwk(key);
    const alg: SigningAlg = jwk.kty === 'EC' ? 'ES256' : 'RS256';
    return { keyRef, alg, jwk };
  }

  async sign(keyRef: string, alg: SigningAlg, data: Uint8Array): Promise<Uint8Array> {
    const key = this.#load(keyRef);
    // ieee-p1363 is the fixed-width R‖S form JWS uses for ECDSA (RFC 7518 §3.4).
    return alg === 'ES256'
      ? cryptoSign('sha256', data, { key, dsaEncoding: 'ieee-p1363' })
      : cryptoSign('sha256', data, key);
  }
}

function createPublicKeyJwk(privateKey: KeyObject): JWK {
  const { kty, crv, x, y, n, e } = privateKey.export({ format: 'jwk' }) as JWK;
  return JSON.parse(JSON.stringify({ kty, crv, x, y, n, e })) as JWK;
}

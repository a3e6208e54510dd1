import { sign, type KeyObject } from 'node:crypto';
import type { SigningAlg } from '../config.ts';

/**
 * Signs `data` with a private key held in this process, as JWS needs it: RSASSA-PKCS1-v1_5 with
 * SHA-256 for RS256, ECDSA P-256 with SHA-256 in the fixed-width R‖S form for ES256 (RFC 7518
 * §3.3, §3.4). With a callback, `crypto.sign` runs in libuv's thread pool: under concurrent
 * requests the event loop keeps parsing, verifying and answering while keys sign elsewhere —
 * the same offload WebCrypto (and so `jose`) gets.
 */
export function signWithKey(alg: SigningAlg, key: KeyObject, data: Uint8Array): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const done = (error: Error | null, signature: Buffer) => (error ? reject(error) : resolve(signature));
    if (alg === 'ES256') sign('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, done);
    else sign('sha256', data, key, done);
  });
}

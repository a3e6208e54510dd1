import { sign, type KeyObject } from 'node:crypto';
import type { SigningAlg } from '../config.ts';

/**
 * Signs `data` with a private key held in this process, as JWS needs it: RSASSA-PKCS1-v1_5 with
 * SHA-256 for RS256, ECDSA P-256 with SHA-256 in the fixed-width R‖S form for ES256 (RFC 7518
 * §3.3, §3.4).
 *
 * Inline by default: a Lambda execution environment serves one request at a time, so handing
 * the work to libuv's thread pool only adds the round trip (measured at 50–90 µs, more than an
 * ES256 signature costs). With `offload`, for a process serving concurrent requests (the local
 * run), RSA signatures (~0.3 ms of CPU) go to the thread pool so the event loop keeps serving;
 * ES256 stays inline, as it is cheaper than the round trip.
 */
export function signWithKey(alg: SigningAlg, key: KeyObject, data: Uint8Array, offload = false): Promise<Uint8Array> {
  if (alg === 'ES256') return Promise.resolve(sign('sha256', data, { key, dsaEncoding: 'ieee-p1363' }));
  if (!offload) return Promise.resolve(sign('sha256', data, key));
  return new Promise((resolve, reject) => sign('sha256', data, key, (error, signature) => (error ? reject(error) : resolve(signature))));
}

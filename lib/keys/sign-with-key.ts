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
 * run), both algorithms go to the thread pool so the event loop keeps serving while another core
 * signs, as WebCrypto does for jose: measured with `npm run bench`'s HTTP rounds, the
 * local run went from 0.95× oidc-provider's throughput with ES256 inline to 1.2–1.35× with it in
 * the pool (10 connections, 2 cores).
 */
export function signWithKey(alg: SigningAlg, key: KeyObject, data: Uint8Array, offload = false): Promise<Uint8Array> {
  // node:crypto would sign with whatever key it is given: an RSA key under ES256 makes a
  // signature no verifier accepts, so the mismatch is refused here instead.
  if (key.asymmetricKeyType !== (alg === 'ES256' ? 'ec' : 'rsa')) return Promise.reject(new Error(`the key cannot sign ${alg}`));
  const k = alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' as const } : key;
  if (!offload) return Promise.resolve(sign('sha256', data, k));
  return new Promise((resolve, reject) => sign('sha256', data, k, (error, signature) => (error ? reject(error) : resolve(signature))));
}

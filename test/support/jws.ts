// Hand-assembled compact JWS/JWE for adversarial tests: headers and payloads that jose would
// refuse to produce (duplicate members, non-JSON, `alg: none`, algorithm/key mismatches).
import { constants, createHmac, KeyObject, sign as nodeSign } from 'node:crypto';

/** base64url of a string (as is) or of any other value's JSON text. */
export const b64url = (value: unknown): string =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** A JWS with this header and payload and the given signature bytes (default: none at all). */
export function unsignedJws(header: Record<string, unknown> | string, payload: Record<string, unknown> | string, signature = ''): string {
  return `${b64url(header)}.${b64url(payload)}.${signature}`;
}

const HASH: Record<string, string> = { '256': 'sha256', '384': 'sha384', '512': 'sha512' };

/**
 * Signs `header.payload` with a private key for any RS/PS/ES algorithm, whatever the key's
 * published `alg` says: this is how a token with a genuine signature but a mismatched `alg` is made.
 */
export function signJws(
  alg: string,
  key: KeyObject | CryptoKey,
  header: Record<string, unknown> | string,
  payload: Record<string, unknown> | string,
): string {
  return signSegments(alg, key, b64url(header), b64url(payload));
}

/** Signs two already-encoded segments as they are (they need not be valid base64url or JSON). */
export function signSegments(alg: string, key: KeyObject | CryptoKey, headerSegment: string, payloadSegment: string): string {
  const input = `${headerSegment}.${payloadSegment}`;
  const privateKey = key instanceof KeyObject ? key : KeyObject.from(key);
  const hash = HASH[alg.slice(2)];
  if (!hash) throw new Error(`unsupported alg ${alg}`);
  let signature: Buffer;
  if (alg.startsWith('RS')) signature = nodeSign(hash, Buffer.from(input), privateKey);
  else if (alg.startsWith('PS')) {
    signature = nodeSign(hash, Buffer.from(input), {
      key: privateKey,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: Number(alg.slice(2)) / 8,
    });
  } else if (alg.startsWith('ES')) signature = nodeSign(hash, Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' });
  else throw new Error(`unsupported alg ${alg}`);
  return `${input}.${signature.toString('base64url')}`;
}

/** An HS* JWS with `secret` as the HMAC key (for RS/HS confusion attacks). */
export function hmacJws(
  alg: 'HS256' | 'HS384' | 'HS512',
  secret: Uint8Array | string,
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
): string {
  const input = `${b64url({ ...header, alg })}.${b64url(payload)}`;
  const mac = createHmac(HASH[alg.slice(2)]!, secret).update(input).digest();
  return `${input}.${mac.toString('base64url')}`;
}

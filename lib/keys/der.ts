import { createPublicKey } from 'node:crypto';
import type { JWK } from 'jose';
import type { SigningAlg } from '../config.ts';

/** Turns a DER SubjectPublicKeyInfo (what KMS GetPublicKey returns) into a public JWK. */
export function spkiDerToJwk(der: Uint8Array): JWK {
  const jwk = createPublicKey({ key: Buffer.from(der), format: 'der', type: 'spki' }).export({ format: 'jwk' });
  return jwk as JWK;
}

/** The algorithm a public key can serve, or undefined when fedbroker does not sign with it. */
export function algForJwk(jwk: JWK): SigningAlg | undefined {
  if (jwk.kty === 'RSA' && jwk.n && Buffer.from(jwk.n, 'base64url').length >= 256) return 'RS256';
  if (jwk.kty === 'EC' && jwk.crv === 'P-256') return 'ES256';
  return undefined;
}

function readLength(der: Uint8Array, at: number): [length: number, next: number] {
  const first = der[at];
  if (first === undefined) throw new TypeError('truncated DER');
  if (first < 0x80) return [first, at + 1];
  const count = first & 0x7f;
  if (count === 0 || count > 2) throw new TypeError('unsupported DER length');
  let length = 0;
  for (let i = 1; i <= count; i++) {
    const b = der[at + i];
    if (b === undefined) throw new TypeError('truncated DER');
    length = (length << 8) | b;
  }
  return [length, at + 1 + count];
}

function readInteger(der: Uint8Array, at: number, size: number): [value: Uint8Array, next: number] {
  if (der[at] !== 0x02) throw new TypeError('expected DER INTEGER');
  const [length, start] = readLength(der, at + 1);
  const end = start + length;
  if (length === 0 || end > der.length) throw new TypeError('bad DER INTEGER length');
  let bytes = der.subarray(start, end);
  // DER INTEGERs are signed: a positive value with its top bit set carries a leading 0x00,
  // and small values are shorter than the curve size (RFC 7518 §3.4 wants fixed width).
  while (bytes.length > size && bytes[0] === 0) bytes = bytes.subarray(1);
  if (bytes.length > size) throw new TypeError('DER INTEGER too large for curve');
  const out = new Uint8Array(size);
  out.set(bytes, size - bytes.length);
  return [out, end];
}

const COORDINATE_BYTES = { ES256: 32 } as const;

/**
 * Converts an ECDSA signature from DER `SEQUENCE { r INTEGER, s INTEGER }` (how KMS returns
 * ECDSA_SHA_256 signatures) to the fixed-width R‖S form JWS requires (RFC 7518 §3.4).
 */
export function ecdsaDerToJose(der: Uint8Array, alg: 'ES256'): Uint8Array {
  const size = COORDINATE_BYTES[alg];
  if (der[0] !== 0x30) throw new TypeError('expected DER SEQUENCE');
  const [length, start] = readLength(der, 1);
  if (start + length !== der.length) throw new TypeError('bad DER SEQUENCE length');
  const [r, next] = readInteger(der, start, size);
  const [s, end] = readInteger(der, next, size);
  if (end !== der.length) throw new TypeError('trailing bytes after DER signature');
  const out = new Uint8Array(size * 2);
  out.set(r, 0);
  out.set(s, size);
  return out;
}

import type { JWTPayload } from 'jose';
import type { KeyRecord, Signer } from '../keys/ports.ts';

const b64u = (bytes: Uint8Array | string) =>
  (typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : Buffer.from(bytes)).toString('base64url');

/** Encoded protected headers by key and `typ`: the same few for every token a container signs. */
const headers = new Map<string, string>();

function encodedHeader(key: KeyRecord, typ: 'JWT' | 'at+jwt'): string {
  const id = `${key.kid}.${key.alg}.${typ}`;
  let encoded = headers.get(id);
  if (encoded === undefined) {
    encoded = b64u(JSON.stringify({ alg: key.alg, kid: key.kid, typ }));
    if (headers.size > 100) headers.clear();
    headers.set(id, encoded);
  }
  return encoded;
}

/**
 * Produces a compact JWS (RFC 7515 §7.1) whose signature comes from the {@link Signer}, so the
 * private key can stay in KMS. The header always names the key (`kid`) and its algorithm.
 */
export async function signJwt(signer: Signer, key: KeyRecord, typ: 'JWT' | 'at+jwt', payload: JWTPayload): Promise<string> {
  const signingInput = `${encodedHeader(key, typ)}.${b64u(JSON.stringify(payload))}`;
  // The signing input is base64url text, so its ASCII bytes are its UTF-8 bytes.
  const signature = await signer.sign(key, Buffer.from(signingInput, 'latin1'));
  return `${signingInput}.${b64u(signature)}`;
}

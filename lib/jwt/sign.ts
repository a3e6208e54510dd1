import type { JWTPayload } from 'jose';
import type { KeyRecord, Signer } from '../keys/ports.ts';

const encoder = new TextEncoder();
const b64u = (bytes: Uint8Array | string) =>
  Buffer.from(typeof bytes === 'string' ? encoder.encode(bytes) : bytes).toString('base64url');

/**
 * Produces a compact JWS (RFC 7515 §7.1) whose signature comes from the {@link Signer}, so the
 * private key can stay in KMS. The header always names the key (`kid`) and its algorithm.
 */
export async function signJwt(
  signer: Signer,
  key: KeyRecord,
  typ: 'JWT' | 'at+jwt',
  payload: JWTPayload,
): Promise<string> {
  const header = { alg: key.alg, kid: key.kid, typ };
  const signingInput = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(payload))}`;
  const signature = await signer.sign(key, encoder.encode(signingInput));
  return `${signingInput}.${b64u(signature)}`;
}

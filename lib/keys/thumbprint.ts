import { createHash } from 'node:crypto';
import type { JWK } from 'jose';

/**
 * The required members of each key type (RFC 7638 §3.2, RFC 8037 §2), in lexicographic order:
 * the thumbprint's JSON object holds these and nothing else.
 */
const REQUIRED: Record<string, readonly string[]> = {
  EC: ['crv', 'kty', 'x', 'y'],
  OKP: ['crv', 'kty', 'x'],
  RSA: ['e', 'kty', 'n'],
  oct: ['k', 'kty'],
};

/**
 * The RFC 7638 SHA-256 thumbprint of a public JWK, base64url-encoded: fedbroker's `kid`. §3.1–3.3:
 * the required members only, in lexicographic order, no whitespace, UTF-8, hashed with SHA-256.
 * The same value as jose's `calculateJwkThumbprint(jwk, 'sha256')` (test/unit/keys/thumbprint.test.ts),
 * computed in this thread with node:crypto, so the key ring needs no jose (issue #15).
 *
 * @throws TypeError for a key type without a defined thumbprint or a required member that is missing.
 */
export function jwkThumbprint(jwk: JWK): string {
  const members = typeof jwk.kty === 'string' && Object.hasOwn(REQUIRED, jwk.kty) ? REQUIRED[jwk.kty] : undefined;
  if (!members) throw new TypeError('JWK kty is missing or has no thumbprint');
  const input: Record<string, string> = {};
  for (const name of members) {
    const value = (jwk as Record<string, unknown>)[name];
    if (typeof value !== 'string' || value.length === 0) throw new TypeError(`JWK member ${name} is missing or invalid`);
    input[name] = value;
  }
  // JSON.stringify keeps insertion order and adds no whitespace (§3.3).
  return createHash('sha256').update(JSON.stringify(input), 'utf8').digest('base64url');
}

import { CertificateRefused } from '../errors.ts';
import type { ParsedAnchor } from './anchor.ts';
import { certificateClaims, parseCertificate } from './certificate.ts';
import { type VerifiedPath, verifyPath } from './path.ts';
import { CLOCK_SKEW_SECONDS, parseSignedRequest, type SignedRequest, verifyRequestSignature } from './sigv4.ts';

/**
 * Replay refusal for signed certificate requests (threat model I9). `claim` stores the nonce until
 * `expiresAt` (epoch seconds) and answers true, or answers false when an unexpired claim already
 * holds it. One conditional single-item write; expiry is compared on write, never left to a TTL.
 */
export interface NonceStore {
  claim(nonce: string, expiresAt: number, now: number): Promise<boolean>;
}

/** A nonce is kept twice the clock window, so a request stays refused for as long as its date is accepted. */
export const NONCE_LIFETIME_SECONDS = 2 * CLOCK_SKEW_SECONDS;

export interface VerifiedCertificateRequest extends VerifiedPath {
  /** What trust-relationship conditions see (`x509Subject/CN`, `x509SAN/URI`, …). */
  readonly claims: Record<string, string | string[]>;
}

/**
 * Verifies a Roles-Anywhere-signed request against the tenant's anchors: timestamp, signature by
 * the leaf's key, the path (sigv4.ts, path.ts), then one use of the signed content. Every failure is
 * a `CertificateRefused`; its `reason` is for the audit record only.
 */
export async function verifyCertificateRequest(
  req: SignedRequest,
  anchors: readonly ParsedAnchor[],
  nonces: NonceStore,
  now: Date,
): Promise<VerifiedCertificateRequest> {
  const signed = parseSignedRequest(req, now);
  const leaf = await parseCertificate(signed.leafDer);
  verifyRequestSignature(signed, leaf);
  // The path before the nonce: a signature alone proves nothing (anyone can sign with a
  // self-made certificate), so only a certificate the tenant trusts can cause a table write.
  const path = await verifyPath(signed.leafDer, signed.chainDers, anchors, now);
  const nowSeconds = Math.floor(now.getTime() / 1000);
  if (!(await nonces.claim(signed.nonce, nowSeconds + NONCE_LIFETIME_SECONDS, nowSeconds))) throw new CertificateRefused('replayed');
  return { ...path, claims: certificateClaims(path.leaf) };
}

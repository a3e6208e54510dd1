import type { JWK } from 'jose';
import type { SigningAlg } from '../config.ts';

export type KeyStatus = 'next' | 'active' | 'retired';

/** One signing key in the registry (DynamoDB item `pk=KEY`, `sk=KEY#<kid>`). */
export interface KeyRecord {
  /** RFC 7638 JWK thumbprint of the public key. */
  kid: string;
  alg: SigningAlg;
  /** Which signer holds the private key. */
  signer: 'kms' | 'local';
  /** Signer-specific reference: the KMS key ARN, or the local key file name. */
  keyRef: string;
  status: KeyStatus;
  createdAt: number;
  activatedAt?: number;
  retiredAt?: number;
  /** Epoch seconds after which a retired key leaves the JWKS. */
  publishUntil?: number;
  version: number;
}

/** A public key as the signer reports it. */
export interface PublicKeyInfo {
  /** Canonical reference to store (a KMS alias resolves to the key ARN). */
  keyRef: string;
  alg: SigningAlg;
  jwk: JWK;
}

/**
 * Signer port: holds private keys, never hands them out.
 * `sign` returns the JWS signature bytes in JOSE form (R‖S for ECDSA, RFC 7518 §3.4).
 */
export interface Signer {
  readonly kind: 'kms' | 'local';
  describe(keyRef: string): Promise<PublicKeyInfo>;
  sign(keyRef: string, alg: SigningAlg, data: Uint8Array): Promise<Uint8Array>;
}

/** The key registry's storage port. All invariants are single-item conditional writes. */
export interface KeyStore {
  /** Every key record and the pointer to the one active key, in one read. */
  readRegistry(): Promise<{ keys: KeyRecord[]; active: { kid: string; version: number } | undefined }>;
  /** Creates a record; resolves false when a record with that kid already exists. */
  createKey(record: KeyRecord): Promise<boolean>;
  /**
   * Moves the active pointer to `kid` if its version is still `expectedVersion`
   * (`undefined`: only if no pointer exists). Resolves false when another writer won.
   */
  setActivePointer(kid: string, expectedVersion: number | undefined): Promise<boolean>;
}

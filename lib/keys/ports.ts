import type { JWK } from 'jose';
import type { SigningAlg } from '../config.ts';

/**
 * Key lifecycle (RFC 7517 key rollover as verifiers expect it): `next` (published, not signing)
 * → `active` (signing) → `retired` (published until every token it signed has expired plus the
 * verifier cache window) → removed. `revoked` keys are withdrawn from the JWKS at once.
 */
export type KeyStatus = 'next' | 'active' | 'retired' | 'revoked';

type SignerKind = 'kms' | 'kms-data-key' | 'local';

/** One signing key in the registry (DynamoDB item `pk=KEY`, `sk=KEY#<kid>`). */
export interface KeyRecord {
  /** RFC 7638 JWK thumbprint of the public key. */
  kid: string;
  alg: SigningAlg;
  /** Which signer holds the private key. */
  signer: SignerKind;
  /** Signer-specific reference: the KMS key ARN, the local key file name, or the data key's id. */
  keyRef: string;
  status: KeyStatus;
  /** Epoch seconds; also when the key was first published. */
  createdAt: number;
  activatedAt?: number;
  retiredAt?: number;
  /** Epoch seconds after which a retired key leaves the JWKS and is destroyed. */
  publishUntil?: number;
  revokedAt?: number;
  /** `bootstrap`: the deployment's own key (never destroyed by fedbroker); `rotation`: created by rotation. */
  origin: 'bootstrap' | 'rotation';
  /** Data-key mode only: the KMS-encrypted private key and the public key, base64 DER. Never plaintext. */
  material?: { encrypted_private_key: string; public_key: string };
  version: number;
}

/** A public key as the signer reports it. */
export interface PublicKeyInfo {
  /** Canonical reference to store (a KMS alias resolves to the key ARN). */
  keyRef: string;
  alg: SigningAlg;
  jwk: JWK;
  material?: KeyRecord['material'];
}

/**
 * Signer port: holds private keys, never hands them out. `sign` returns the JWS signature bytes
 * in JOSE form (R‖S for ECDSA, RFC 7518 §3.4).
 */
export interface Signer {
  readonly kind: SignerKind;
  /** The key a new deployment starts with (the stack's KMS key, the local key file, a first data key). */
  bootstrapKey(): Promise<PublicKeyInfo>;
  /** A fresh key for rotation. */
  createKey(): Promise<PublicKeyInfo>;
  publicKey(record: KeyRecord): Promise<PublicKeyInfo>;
  sign(record: KeyRecord, data: Uint8Array): Promise<Uint8Array>;
  /** Destroys a removed or revoked key's private material (KMS: schedules deletion). */
  destroyKey(record: KeyRecord): Promise<void>;
}

/** The key registry's storage port. All invariants are single-item conditional writes. */
export interface KeyStore {
  /** Every key record and the pointer to the one active key, in one read. */
  readRegistry(): Promise<{ keys: KeyRecord[]; active: { kid: string; version: number } | undefined }>;
  /** Creates a record; resolves false when a record with that kid already exists. */
  createKey(record: KeyRecord): Promise<boolean>;
  /** Replaces a record (version already incremented) if the stored version is `expectedVersion`. */
  updateKey(record: KeyRecord, expectedVersion: number): Promise<boolean>;
  deleteKey(kid: string): Promise<void>;
  /**
   * Moves the active pointer to `kid` if its version is still `expectedVersion`
   * (`undefined`: only if no pointer exists). Resolves false when another writer won.
   */
  setActivePointer(kid: string, expectedVersion: number | undefined): Promise<boolean>;
  /** Takes the rotation lease until `untilSeconds`, unless another holder's lease is still valid. */
  acquireRotationLease(owner: string, nowSeconds: number, untilSeconds: number): Promise<boolean>;
  releaseRotationLease(owner: string): Promise<void>;
}

import { createPrivateKey, randomUUID, type KeyObject } from 'node:crypto';
import { DecryptCommand, GenerateDataKeyPairWithoutPlaintextCommand, type KMSClient, type DataKeyPairSpec } from '@aws-sdk/client-kms';
import type { SigningAlg } from '../config.ts';
import { KeyUnavailable } from '../errors.ts';
import { spkiDerToJwk } from '../keys/der.ts';
import { signWithKey } from '../keys/sign-with-key.ts';
import type { KeyRecord, PublicKeyInfo, Signer } from '../keys/ports.ts';
import { kmsCall } from './kms-signer.ts';

const PAIR_SPEC: Record<SigningAlg, DataKeyPairSpec> = { RS256: 'RSA_2048', ES256: 'ECC_NIST_P256' };

/**
 * Data-key signing mode (`FEDBROKER_SIGNER=kms-data-key`): key pairs come from
 * `GenerateDataKeyPairWithoutPlaintext` under a symmetric KMS key; the table keeps only the
 * encrypted private key, which each container decrypts once (`kms:Decrypt`) and uses in memory.
 * Trade-off: no KMS call per token and no account-wide Sign quota, but the private key lives in
 * Lambda memory instead of an HSM. The encryption context binds each ciphertext to its key id.
 */
export class KmsDataKeySigner implements Signer {
  readonly kind = 'kms-data-key' as const;
  readonly #kms: KMSClient;
  readonly #options: { wrappingKeyId: string; alg: SigningAlg; offload?: boolean };
  readonly #privateKeys = new Map<string, Promise<KeyObject>>();

  /** `offload`: sign in the thread pool (see {@link signWithKey}). */
  constructor(kms: KMSClient, options: { wrappingKeyId: string; alg: SigningAlg; offload?: boolean }) {
    this.#kms = kms;
    this.#options = options;
  }

  #context(keyRef: string) {
    return { purpose: 'fedbroker-signing-key', key: keyRef };
  }

  bootstrapKey() {
    return this.createKey();
  }

  async createKey(): Promise<PublicKeyInfo> {
    const keyRef = randomUUID();
    const out = await kmsCall(() =>
      this.#kms.send(
        new GenerateDataKeyPairWithoutPlaintextCommand({
          KeyId: this.#options.wrappingKeyId,
          KeyPairSpec: PAIR_SPEC[this.#options.alg],
          EncryptionContext: this.#context(keyRef),
        }),
      ),
    );
    if (!out.PrivateKeyCiphertextBlob || !out.PublicKey) throw new KeyUnavailable('KMS returned no data key pair');
    const material = {
      encrypted_private_key: Buffer.from(out.PrivateKeyCiphertextBlob).toString('base64'),
      public_key: Buffer.from(out.PublicKey).toString('base64'),
    };
    return { keyRef, alg: this.#options.alg, jwk: spkiDerToJwk(out.PublicKey), material };
  }

  async publicKey(record: KeyRecord): Promise<PublicKeyInfo> {
    if (!record.material) throw new KeyUnavailable('data key record has no key material');
    return { keyRef: record.keyRef, alg: record.alg, jwk: spkiDerToJwk(Buffer.from(record.material.public_key, 'base64')) };
  }

  #privateKey(record: KeyRecord): Promise<KeyObject> {
    let pending = this.#privateKeys.get(record.kid);
    if (!pending) {
      const material = record.material;
      if (!material) throw new KeyUnavailable('data key record has no key material');
      pending = kmsCall(() =>
        this.#kms.send(
          new DecryptCommand({
            KeyId: this.#options.wrappingKeyId,
            CiphertextBlob: Buffer.from(material.encrypted_private_key, 'base64'),
            EncryptionContext: this.#context(record.keyRef),
          }),
        ),
      ).then((out) => {
        if (!out.Plaintext) throw new KeyUnavailable('KMS returned no plaintext');
        const key = createPrivateKey({ key: Buffer.from(out.Plaintext), format: 'der', type: 'pkcs8' });
        out.Plaintext.fill(0);
        return key;
      });
      this.#privateKeys.set(record.kid, pending);
      pending.catch(() => this.#privateKeys.delete(record.kid));
    }
    return pending;
  }

  async sign(record: KeyRecord, data: Uint8Array): Promise<Uint8Array> {
    return signWithKey(record.alg, await this.#privateKey(record), data, this.#options.offload);
  }

  async destroyKey(record: KeyRecord): Promise<void> {
    // The only copy of the private key is the ciphertext in the record, deleted with it.
    this.#privateKeys.delete(record.kid);
  }
}

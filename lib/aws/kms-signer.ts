import { createHash } from 'node:crypto';
import { GetPublicKeyCommand, KMSClient, SignCommand, type SigningAlgorithmSpec } from '@aws-sdk/client-kms';
import type { SigningAlg } from '../config.ts';
import { KeyUnavailable } from '../errors.ts';
import { describeError, logger } from '../log.ts';
import { ecdsaDerToJose, spkiDerToJwk } from '../keys/der.ts';
import type { PublicKeyInfo, Signer } from '../keys/ports.ts';
import { isTransient, unavailable } from './errors.ts';

/** KMS KeySpec → JWS alg (RFC 7518 §3.1). */
const ALG_BY_KEY_SPEC: Record<string, SigningAlg> = {
  RSA_2048: 'RS256',
  RSA_3072: 'RS256',
  RSA_4096: 'RS256',
  ECC_NIST_P256: 'ES256',
};

const KMS_ALGORITHM: Record<SigningAlg, SigningAlgorithmSpec> = {
  RS256: 'RSASSA_PKCS1_V1_5_SHA_256',
  ES256: 'ECDSA_SHA_256',
};

/** KMS `Sign` takes at most 4096 bytes with MessageType RAW (KMS API reference, Sign). */
const RAW_MESSAGE_LIMIT = 4096;

/**
 * Signer adapter over an AWS KMS asymmetric key: the private key never leaves KMS.
 * Errors are translated here: throttling/outage → 503 with Retry-After; a key KMS no longer
 * has, or cannot sign with → {@link KeyUnavailable}.
 */
export class KmsSigner implements Signer {
  readonly kind = 'kms' as const;
  readonly #kms: KMSClient;
  constructor(kms: KMSClient) {
    this.#kms = kms;
  }

  async describe(keyRef: string): Promise<PublicKeyInfo> {
    const out = await this.#call(() => this.#kms.send(new GetPublicKeyCommand({ KeyId: keyRef })));
    const alg = out.KeySpec ? ALG_BY_KEY_SPEC[out.KeySpec] : undefined;
    if (!out.PublicKey || !out.KeyId || !alg || out.KeyUsage !== 'SIGN_VERIFY') {
      throw new KeyUnavailable('KMS key is not an asymmetric SIGN_VERIFY key of a supported spec');
    }
    return { keyRef: out.KeyId, alg, jwk: spkiDerToJwk(out.PublicKey) };
  }

  async sign(keyRef: string, alg: SigningAlg, data: Uint8Array): Promise<Uint8Array> {
    // RAW lets KMS hash; past its size limit we hash locally and send the digest (same signature).
    const raw = data.byteLength <= RAW_MESSAGE_LIMIT;
    const out = await this.#call(() =>
      this.#kms.send(
        new SignCommand({
          KeyId: keyRef,
          Message: raw ? data : createHash('sha256').update(data).digest(),
          MessageType: raw ? 'RAW' : 'DIGEST',
          SigningAlgorithm: KMS_ALGORITHM[alg],
        }),
      ),
    );
    if (!out.Signature || out.Signature.byteLength === 0) throw new KeyUnavailable('KMS returned no signature');
    return alg === 'ES256' ? ecdsaDerToJose(out.Signature, alg) : out.Signature;
  }

  async #call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (isTransient(e)) throw unavailable('KMS', e);
      // NotFound, Disabled, KMSInvalidState, InvalidKeyUsage, AccessDenied, …: the key is unusable
      // until an operator acts; the log says which, the caller only that signing is unavailable.
      logger.error('KMS key unusable', { error: describeError(e) });
      throw new KeyUnavailable('signing key is unavailable', { cause: e });
    }
  }
}

import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import {
  CreateKeyCommand,
  GetPublicKeyCommand,
  type KMSClient,
  ScheduleKeyDeletionCommand,
  SignCommand,
  type KeySpec,
  type SigningAlgorithmSpec,
} from '@aws-sdk/client-kms';
import type { SigningAlg } from '../config.ts';
import { KeyUnavailable } from '../errors.ts';
import { describeError, logger } from '../log.ts';
import { recordKmsSignLatency } from '../metrics.ts';
import { ecdsaDerToJose, spkiDerToJwk } from '../keys/der.ts';
import type { KeyRecord, PublicKeyInfo, Signer } from '../keys/ports.ts';
import { isTransient, unavailable } from './errors.ts';

/** KMS KeySpec → JWS alg (RFC 7518 §3.1). */
const ALG_BY_KEY_SPEC: Record<string, SigningAlg> = {
  RSA_2048: 'RS256',
  RSA_3072: 'RS256',
  RSA_4096: 'RS256',
  ECC_NIST_P256: 'ES256',
};
const KEY_SPEC: Record<SigningAlg, KeySpec> = { RS256: 'RSA_2048', ES256: 'ECC_NIST_P256' };

const KMS_ALGORITHM: Record<SigningAlg, SigningAlgorithmSpec> = {
  RS256: 'RSASSA_PKCS1_V1_5_SHA_256',
  ES256: 'ECDSA_SHA_256',
};

/** KMS `Sign` takes at most 4096 bytes with MessageType RAW (KMS API reference, Sign). */
const RAW_MESSAGE_LIMIT = 4096;

/**
 * Tag key on every key rotation creates. Its value is the deployment's `<service>-<stage>`
 * (config `keys.managedTag`): the IAM conditions of one stage (serverless.yml) match only that
 * stage's keys (KMS developer guide, "ABAC for AWS KMS").
 */
const MANAGED_TAG_KEY = 'fedbroker:managed';

/**
 * Translates KMS errors once: throttling/outage → 503 with Retry-After; a key KMS no longer has
 * or cannot use (NotFound, Disabled, KMSInvalidState, AccessDenied, …) → {@link KeyUnavailable},
 * with the AWS error name in the log and nothing of it on the wire.
 */
export async function kmsCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (isTransient(e)) throw unavailable('KMS', e);
    logger.error('KMS key unusable', { error: describeError(e) });
    throw new KeyUnavailable('signing key is unavailable', { cause: e });
  }
}

/**
 * Signer adapter over AWS KMS asymmetric keys: the private key never leaves KMS, every token
 * costs one `Sign` call.
 */
export class KmsSigner implements Signer {
  readonly kind = 'kms' as const;
  readonly #kms: KMSClient;
  readonly #options: { keyId: string; alg: SigningAlg; deletionWindowDays: number; managedTag: string };
  /** Public keys by key ARN, to check every signature KMS returns (one GetPublicKey per key per container). */
  readonly #verifiers = new Map<string, Promise<KeyObject>>();

  constructor(kms: KMSClient, options: { keyId: string; alg: SigningAlg; deletionWindowDays: number; managedTag: string }) {
    this.#kms = kms;
    this.#options = options;
  }

  async #describe(keyRef: string): Promise<PublicKeyInfo> {
    const out = await kmsCall(() => this.#kms.send(new GetPublicKeyCommand({ KeyId: keyRef })));
    const alg = out.KeySpec ? ALG_BY_KEY_SPEC[out.KeySpec] : undefined;
    if (!out.PublicKey || !out.KeyId || !alg || out.KeyUsage !== 'SIGN_VERIFY') {
      throw new KeyUnavailable('KMS key is not an asymmetric SIGN_VERIFY key of a supported spec');
    }
    return { keyRef: out.KeyId, alg, jwk: spkiDerToJwk(out.PublicKey) };
  }

  bootstrapKey() {
    return this.#describe(this.#options.keyId);
  }

  async createKey() {
    const out = await kmsCall(() =>
      this.#kms.send(
        new CreateKeyCommand({
          KeySpec: KEY_SPEC[this.#options.alg],
          KeyUsage: 'SIGN_VERIFY',
          // Named although they are the defaults: the rotation role's kms:KeyOrigin condition
          // and kms:MultiRegion Deny (serverless.yml) are evaluated on what the request says.
          Origin: 'AWS_KMS',
          MultiRegion: false,
          Description: 'fedbroker OIDC issuer signing key (rotated)',
          Tags: [{ TagKey: MANAGED_TAG_KEY, TagValue: this.#options.managedTag }],
        }),
      ),
    );
    if (!out.KeyMetadata?.Arn) throw new KeyUnavailable('KMS created no key');
    return this.#describe(out.KeyMetadata.Arn);
  }

  publicKey(record: KeyRecord) {
    const info = this.#describe(record.keyRef);
    // The key ring asks once per key per container; the same answer serves signature checks.
    const verifier = info.then((i) => createPublicKey({ key: i.jwk as never, format: 'jwk' }));
    verifier.catch(() => this.#verifiers.delete(record.keyRef));
    this.#verifiers.set(record.keyRef, verifier);
    return info;
  }

  async sign(record: KeyRecord, data: Uint8Array): Promise<Uint8Array> {
    // RAW lets KMS hash; past its size limit we hash locally and send the digest (same signature).
    const raw = data.byteLength <= RAW_MESSAGE_LIMIT;
    // The public half the signature is checked against below, asked for alongside the Sign (a
    // container's first signature would otherwise wait for a second round trip after it).
    const verifier = this.#verifier(record.keyRef);
    const started = performance.now();
    const out = await kmsCall(() =>
      this.#kms.send(
        new SignCommand({
          KeyId: record.keyRef,
          Message: raw ? data : createHash('sha256').update(data).digest(),
          MessageType: raw ? 'RAW' : 'DIGEST',
          SigningAlgorithm: KMS_ALGORITHM[record.alg],
        }),
      ),
    ).finally(() => recordKmsSignLatency(performance.now() - started));
    if (!out.Signature || out.Signature.byteLength === 0) throw new KeyUnavailable('KMS returned no signature');
    // Never a half-signed token: the signature is checked against the key's public half before
    // use (microseconds, against a network round trip), so a garbled answer fails the request.
    const valid = verify('sha256', data, { key: await verifier, dsaEncoding: 'der' }, out.Signature);
    if (!valid) throw new KeyUnavailable('KMS returned a signature that does not verify');
    return record.alg === 'ES256' ? ecdsaDerToJose(out.Signature, record.alg) : out.Signature;
  }

  #verifier(keyRef: string): Promise<KeyObject> {
    let pending = this.#verifiers.get(keyRef);
    if (!pending) {
      pending = this.#describe(keyRef).then((info) => createPublicKey({ key: info.jwk as never, format: 'jwk' }));
      this.#verifiers.set(keyRef, pending);
      pending.catch(() => this.#verifiers.delete(keyRef));
    }
    return pending;
  }

  async destroyKey(record: KeyRecord): Promise<void> {
    // The deployment's own key belongs to the CloudFormation stack: fedbroker never deletes it.
    if (record.origin === 'bootstrap') return;
    await kmsCall(() =>
      this.#kms.send(new ScheduleKeyDeletionCommand({ KeyId: record.keyRef, PendingWindowInDays: this.#options.deletionWindowDays })),
    );
  }
}

// A stand-in for AWS KMS speaking its real wire protocol (AWS JSON 1.1: POST /, header
// `X-Amz-Target: TrentService.<Operation>`, blobs as base64), for the operations fedbroker uses.
// No KMS emulator exists on npm or Debian; this follows the KMS API reference for CreateKey,
// CreateAlias, GetPublicKey, Sign, DisableKey and ScheduleKeyDeletion, including DER-encoded
// ECDSA signatures and typed errors (`__type` + `x-amzn-ErrorType`), so the real
// @aws-sdk/client-kms is exercised over HTTP.
import {
  constants,
  createCipheriv,
  createDecipheriv,
  createHash,
  generateKeyPairSync,
  privateEncrypt,
  randomBytes,
  randomUUID,
  type KeyObject,
} from 'node:crypto';
import { AwsServiceError, serveAwsJson, type AwsJsonService, type Operation } from './aws-json-service.ts';

export const STAND_IN_ACCOUNT = '111122223333';
const REGION = 'us-east-1';

const SPECS = {
  RSA_2048: { type: 'rsa', algs: ['RSASSA_PKCS1_V1_5_SHA_256', 'RSASSA_PSS_SHA_256'] },
  ECC_NIST_P256: { type: 'ec', algs: ['ECDSA_SHA_256'] },
} as const;
type Spec = keyof typeof SPECS;

interface AsymmetricKey {
  id: string;
  arn: string;
  spec: Spec;
  usage: 'SIGN_VERIFY';
  state: 'Enabled' | 'Disabled' | 'PendingDeletion';
  privateKey: KeyObject;
  publicDer: Buffer;
  tags: { TagKey: string; TagValue: string }[];
}
/** SYMMETRIC_DEFAULT keys, for the data-key signer: an AES-256-GCM secret that never leaves here. */
interface SymmetricKey extends Omit<AsymmetricKey, 'spec' | 'usage' | 'privateKey' | 'publicDer'> {
  spec: 'SYMMETRIC_DEFAULT';
  usage: 'ENCRYPT_DECRYPT';
  secret: Buffer;
}
type Key = AsymmetricKey | SymmetricKey;

export interface KmsStandIn {
  url: string;
  /** Calls received per operation. */
  calls: Record<string, number>;
  /** Makes the next `count` calls of `operation` (or of every operation with `*`) fail with `type`. */
  failNext(operation: string, type: string, count?: number, status?: number): void;
  /** Rewrites the next successful answer of `operation` (e.g. a garbled Signature). */
  alterNext: AwsJsonService['alterNext'];
  /** Removes a key as if its deletion had completed. */
  forget(keyId: string): void;
  createKey(spec: Spec | 'SYMMETRIC_DEFAULT'): Promise<{ KeyId: string; Arn: string }>;
  /** Tags of a key, as CreateKey/TagResource set them. */
  tagsOf(keyId: string): { TagKey: string; TagValue: string }[];
  /** State of a key (`PendingDeletion` after ScheduleKeyDeletion). */
  stateOf(keyId: string): string | undefined;
  close(): Promise<void>;
}

export async function startKmsStandIn(): Promise<KmsStandIn> {
  const keys = new Map<string, Key>();
  const aliases = new Map<string, string>();

  const resolveKey = (keyId: unknown): Key => {
    if (typeof keyId !== 'string' || keyId.length === 0) throw new AwsServiceError('ValidationException', 'KeyId is required');
    let id = keyId;
    if (id.startsWith('alias/') || id.includes(':alias/')) {
      const name = id.slice(id.indexOf('alias/'));
      const target = aliases.get(name);
      if (!target) throw new AwsServiceError('NotFoundException', `Alias ${arnOf('alias', name)} is not found.`);
      id = target;
    }
    if (id.startsWith('arn:')) id = id.slice(id.lastIndexOf('/') + 1);
    const key = keys.get(id);
    if (!key) throw new AwsServiceError('NotFoundException', `Key '${arnOf('key', id)}' does not exist`);
    if (key.state === 'Disabled') throw new AwsServiceError('DisabledException', `${key.arn} is disabled.`);
    if (key.state === 'PendingDeletion') throw new AwsServiceError('KMSInvalidStateException', `${key.arn} is pending deletion.`);
    return key;
  };

  const ops: Record<string, Operation> = {
    CreateKey(input) {
      const tags = (input.Tags as Key['tags']) ?? [];
      if ((input.KeySpec ?? 'SYMMETRIC_DEFAULT') === 'SYMMETRIC_DEFAULT') {
        if ((input.KeyUsage ?? 'ENCRYPT_DECRYPT') !== 'ENCRYPT_DECRYPT')
          throw new AwsServiceError('ValidationException', 'SYMMETRIC_DEFAULT keys are ENCRYPT_DECRYPT');
        const id = randomUUID();
        const key: SymmetricKey = {
          id,
          arn: arnOf('key', id),
          spec: 'SYMMETRIC_DEFAULT',
          usage: 'ENCRYPT_DECRYPT',
          state: 'Enabled',
          secret: randomBytes(32),
          tags,
        };
        keys.set(id, key);
        return { KeyMetadata: metadata(key) };
      }
      const spec = input.KeySpec as Spec;
      if (!(spec in SPECS)) throw new AwsServiceError('ValidationException', `KeySpec ${String(spec)} is not supported by this stand-in`);
      if (input.KeyUsage !== 'SIGN_VERIFY')
        throw new AwsServiceError('ValidationException', 'KeyUsage must be SIGN_VERIFY for asymmetric signing keys');
      const pair =
        SPECS[spec].type === 'rsa'
          ? generateKeyPairSync('rsa', { modulusLength: 2048 })
          : generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const id = randomUUID();
      const key: Key = {
        id,
        arn: arnOf('key', id),
        spec,
        usage: 'SIGN_VERIFY',
        state: 'Enabled',
        privateKey: pair.privateKey,
        publicDer: pair.publicKey.export({ format: 'der', type: 'spki' }),
        tags,
      };
      keys.set(id, key);
      return { KeyMetadata: metadata(key) };
    },
    CreateAlias(input) {
      const name = String(input.AliasName ?? '');
      if (!/^alias\/[\w/+=,.@-]+$/.test(name) || name.startsWith('alias/aws/'))
        throw new AwsServiceError('ValidationException', 'bad AliasName');
      if (aliases.has(name))
        throw new AwsServiceError('AlreadyExistsException', `An alias with the name ${arnOf('alias', name)} already exists`);
      aliases.set(name, resolveKey(input.TargetKeyId).id);
      return {};
    },
    GetPublicKey(input) {
      const key = asymmetric(resolveKey(input.KeyId));
      return {
        KeyId: key.arn,
        PublicKey: key.publicDer.toString('base64'),
        KeySpec: key.spec,
        CustomerMasterKeySpec: key.spec,
        KeyUsage: key.usage,
        SigningAlgorithms: SPECS[key.spec].algs,
      };
    },
    Sign(input) {
      const key = asymmetric(resolveKey(input.KeyId));
      const algorithm = String(input.SigningAlgorithm ?? '');
      if (!(SPECS[key.spec].algs as readonly string[]).includes(algorithm)) {
        throw new AwsServiceError('InvalidKeyUsageException', `${algorithm} is not a valid signing algorithm for ${key.arn}`);
      }
      const message = Buffer.from(String(input.Message ?? ''), 'base64');
      const type = input.MessageType ?? 'RAW';
      if (message.length === 0) throw new AwsServiceError('ValidationException', 'Message must not be empty');
      if (type === 'RAW' && message.length > 4096)
        throw new AwsServiceError('ValidationException', 'Message must be at most 4096 bytes with MessageType RAW');
      if (type === 'DIGEST' && message.length !== 32)
        throw new AwsServiceError('ValidationException', 'Digest length does not match SHA_256');
      const digest = type === 'DIGEST' ? message : createHash('sha256').update(message).digest();
      // Sign a precomputed digest: node signs the DigestInfo/ECDSA over the digest we pass.
      const signature =
        key.spec === 'ECC_NIST_P256'
          ? signDigestEc(key.privateKey, digest)
          : algorithm === 'RSASSA_PSS_SHA_256'
            ? signDigestRsa(key.privateKey, digest, true)
            : signDigestRsa(key.privateKey, digest, false);
      return { KeyId: key.arn, Signature: signature.toString('base64'), SigningAlgorithm: algorithm };
    },
    GenerateDataKeyPairWithoutPlaintext(input) {
      const key = symmetric(resolveKey(input.KeyId));
      const spec = String(input.KeyPairSpec ?? '');
      if (!(spec in SPECS)) throw new AwsServiceError('ValidationException', `KeyPairSpec ${spec} is not supported by this stand-in`);
      const pair =
        spec === 'RSA_2048' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const plaintext = pair.privateKey.export({ format: 'der', type: 'pkcs8' });
      return {
        KeyId: key.arn,
        KeyPairSpec: spec,
        PublicKey: pair.publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
        PrivateKeyCiphertextBlob: seal(key, plaintext, input.EncryptionContext).toString('base64'),
      };
    },
    Decrypt(input) {
      const blob = Buffer.from(String(input.CiphertextBlob ?? ''), 'base64');
      // The blob names its key (as real KMS ciphertexts do); a KeyId given must agree.
      const key = symmetric(resolveKey(blob.subarray(0, 36).toString('utf8')));
      if (input.KeyId !== undefined && resolveKey(input.KeyId).id !== key.id)
        throw new AwsServiceError(
          'IncorrectKeyException',
          'The key ID in the request does not identify a CMK that can perform this operation.',
        );
      return {
        KeyId: key.arn,
        Plaintext: open(key, blob, input.EncryptionContext).toString('base64'),
        EncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
      };
    },
    DisableKey(input) {
      resolveKey(input.KeyId).state = 'Disabled';
      return {};
    },
    ScheduleKeyDeletion(input) {
      const key = resolveKey(input.KeyId);
      key.state = 'PendingDeletion';
      const days = Number(input.PendingWindowInDays ?? 30);
      return { KeyId: key.arn, KeyState: key.state, DeletionDate: Date.now() / 1000 + days * 86400, PendingWindowInDays: days };
    },
  };

  const service = await serveAwsJson({ target: 'TrentService', operations: ops, internalError: 'KMSInternalException' });

  const client = async (operation: string, input: unknown) => {
    const res = await fetch(service.url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': `TrentService.${operation}` },
      body: JSON.stringify(input),
    });
    return (await res.json()) as { KeyMetadata: { KeyId: string; Arn: string } };
  };

  return {
    url: service.url,
    calls: service.calls,
    failNext: service.failNext,
    alterNext: service.alterNext,
    forget: (keyId) => keys.delete(keyId.slice(keyId.lastIndexOf('/') + 1)),
    createKey: async (spec) =>
      (await client('CreateKey', { KeySpec: spec, KeyUsage: spec === 'SYMMETRIC_DEFAULT' ? 'ENCRYPT_DECRYPT' : 'SIGN_VERIFY' }))
        .KeyMetadata,
    tagsOf: (keyId) => keys.get(keyId.slice(keyId.lastIndexOf('/') + 1))?.tags ?? [],
    stateOf: (keyId) => keys.get(keyId.slice(keyId.lastIndexOf('/') + 1))?.state,
    close: service.close,
  };
}

function arnOf(kind: 'key' | 'alias', id: string): string {
  return `arn:aws:kms:${REGION}:${STAND_IN_ACCOUNT}:${kind === 'key' ? `key/${id}` : id}`;
}

function asymmetric(key: Key): AsymmetricKey {
  if (key.spec === 'SYMMETRIC_DEFAULT') throw new AwsServiceError('InvalidKeyUsageException', `${key.arn} is not an asymmetric key`);
  return key;
}

function symmetric(key: Key): SymmetricKey {
  if (key.spec !== 'SYMMETRIC_DEFAULT')
    throw new AwsServiceError('InvalidKeyUsageException', `${key.arn} is not a symmetric encryption key`);
  return key;
}

// Ciphertext blob: key id (36 bytes) ‖ IV (12) ‖ tag (16) ‖ AES-256-GCM ciphertext, with the
// canonical encryption context as additional authenticated data, as KMS binds it.
function aad(context: unknown): Buffer {
  const entries = Object.entries((context ?? {}) as Record<string, string>).sort(([a], [b]) => a.localeCompare(b));
  return Buffer.from(JSON.stringify(entries));
}

function seal(key: SymmetricKey, plaintext: Buffer, context: unknown): Buffer {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key.secret, iv).setAAD(aad(context));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([Buffer.from(key.id, 'utf8'), iv, cipher.getAuthTag(), body]);
}

function open(key: SymmetricKey, blob: Buffer, context: unknown): Buffer {
  try {
    const decipher = createDecipheriv('aes-256-gcm', key.secret, blob.subarray(36, 48)).setAAD(aad(context));
    decipher.setAuthTag(blob.subarray(48, 64));
    return Buffer.concat([decipher.update(blob.subarray(64)), decipher.final()]);
  } catch {
    throw new AwsServiceError('InvalidCiphertextException', 'The ciphertext is invalid or its encryption context does not match.');
  }
}

function metadata(key: Key) {
  return {
    AWSAccountId: STAND_IN_ACCOUNT,
    KeyId: key.id,
    Arn: key.arn,
    CreationDate: Date.now() / 1000,
    Enabled: key.state === 'Enabled',
    KeyState: key.state,
    KeyUsage: key.usage,
    KeySpec: key.spec,
    CustomerMasterKeySpec: key.spec,
    KeyManager: 'CUSTOMER',
    Origin: 'AWS_KMS',
    ...(key.spec === 'SYMMETRIC_DEFAULT' ? { EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'] } : { SigningAlgorithms: SPECS[key.spec].algs }),
  };
}

// PKCS#1 v1.5 DigestInfo prefix for SHA-256 (RFC 8017 §9.2 note 1).
const SHA256_DIGEST_INFO = Buffer.from('3031300d060960864801650304020105000420', 'hex');

function signDigestRsa(privateKey: KeyObject, digest: Buffer, pss: boolean): Buffer {
  if (pss) throw new AwsServiceError('UnsupportedOperationException', 'PSS is not used by fedbroker');
  // RSASSA-PKCS1-v1_5 over a precomputed digest is the private-key operation on DigestInfo‖digest.
  return privateEncrypt({ key: privateKey, padding: constants.RSA_PKCS1_PADDING }, Buffer.concat([SHA256_DIGEST_INFO, digest]));
}

function signDigestEc(privateKey: KeyObject, digest: Buffer): Buffer {
  // node:crypto cannot sign a precomputed digest with ECDSA, so this does P-256 ECDSA (SEC 1 §4.1.3)
  // itself and returns what KMS returns: a DER SEQUENCE { r INTEGER, s INTEGER }.
  const d = BigInt(`0x${Buffer.from(String(privateKey.export({ format: 'jwk' }).d), 'base64url').toString('hex')}`);
  const z = BigInt(`0x${digest.toString('hex')}`);
  for (;;) {
    const k = (BigInt(`0x${randomBytes(40).toString('hex')}`) % (P256.n - 1n)) + 1n;
    const r = mul(k, P256.G)[0] % P256.n;
    const s = (inv(k, P256.n) * (z + r * d)) % P256.n;
    if (r !== 0n && s !== 0n) return derSequence(derInteger(r), derInteger(s));
  }
}

const P256 = {
  p: 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn,
  n: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
  G: [
    0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296n,
    0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5n,
  ] as Point,
};
type Point = [bigint, bigint] | null;
const mod = (a: bigint, m: bigint) => ((a % m) + m) % m;
function inv(a: bigint, m: bigint): bigint {
  let [r0, r1, s0, s1] = [mod(a, m), m, 1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1, s0, s1] = [r1, r0 - q * r1, s1, s0 - q * s1];
  }
  return mod(s0, m);
}
function add(a: Point, b: Point): Point {
  if (!a) return b;
  if (!b) return a;
  const { p } = P256;
  if (a[0] === b[0] && mod(a[1] + b[1], p) === 0n) return null;
  const l = a[0] === b[0] ? mod(3n * a[0] * a[0] - 3n, p) * inv(2n * a[1], p) : mod(b[1] - a[1], p) * inv(b[0] - a[0], p);
  const x = mod(l * l - a[0] - b[0], p);
  return [x, mod(l * (a[0] - x) - a[1], p)];
}
function mul(k: bigint, point: Point): [bigint, bigint] {
  let result: Point = null;
  let addend = point;
  for (let e = k; e > 0n; e >>= 1n) {
    if (e & 1n) result = add(result, addend);
    addend = add(addend, addend);
  }
  if (!result) throw new Error('point at infinity');
  return result;
}
function derInteger(v: bigint): Buffer {
  let hex = v.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  let bytes = Buffer.from(hex, 'hex');
  if ((bytes[0] ?? 0) & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return Buffer.concat([Buffer.from([0x02, bytes.length]), bytes]);
}
function derSequence(...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}

import { DecryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Runtime } from '../../lib/handlers/runtime.ts';
import { startBroker, type TestBroker } from '../support/broker.ts';
import { startGateway } from '../support/gateway.ts';

describe.each(['RS256', 'ES256'] as const)('data-key signing mode with %s', (alg) => {
  let broker: TestBroker;
  let gateway: Awaited<ReturnType<typeof startGateway>>;
  const logged: string[] = [];

  beforeAll(async () => {
    broker = await startBroker({ signer: 'kms-data-key', alg, env: { POWERTOOLS_LOG_LEVEL: 'DEBUG' } });
    // Every log line the broker writes, to prove the private key never reaches one.
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      logged.push(String(chunk));
      return true;
    });
    gateway = await startGateway((m) => broker.load(m));
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    await gateway.close();
    await broker.close();
  });

  async function sign() {
    const { runtime } = await broker.load<{ runtime: () => Runtime }>('lib/handlers/runtime.ts');
    const { signJwt } = await broker.load<typeof import('../../lib/jwt/sign.ts')>('lib/jwt/sign.ts');
    const rt = runtime();
    const now = Math.floor(Date.now() / 1000);
    return signJwt(rt.signer, await rt.keyRing.activeKey(), 'JWT', {
      iss: rt.config.issuer,
      aud: 'sts.amazonaws.com',
      sub: 'dev/x',
      iat: now,
      exp: now + 300,
    });
  }

  it('signs tokens that verify against the published JWKS', async () => {
    const token = await sign();
    const { protectedHeader } = await jwtVerify(token, createRemoteJWKSet(new URL(`${gateway.url}/.well-known/jwks.json`)), {
      issuer: 'https://issuer.fedbroker.test',
      audience: 'sts.amazonaws.com',
    });
    expect(protectedHeader.alg).toBe(alg);
  });

  it('decrypts the key once per container, with no KMS call per token', async () => {
    await sign();
    const before = { ...broker.kms.calls };
    for (let i = 0; i < 5; i++) await sign();
    expect(broker.kms.calls).toEqual(before);
    expect(broker.kms.calls.Decrypt).toBe(1);
    expect(broker.kms.calls.Sign ?? 0).toBe(0);
  });

  it('never writes the plaintext private key to the table or the logs', async () => {
    await sign();
    const items = (await new DynamoDBClient({}).send(new ScanCommand({ TableName: broker.tableName }))).Items ?? [];
    const key = items.find((i) => i.sk?.S?.startsWith('KEY#'));
    const material = key?.material?.M;
    expect(Object.keys(material ?? {}).sort()).toEqual(['encrypted_private_key', 'public_key']);
    // What the plaintext is, learned the way the broker learns it: Decrypt with the right context.
    const plaintext = (
      await new KMSClient({}).send(
        new DecryptCommand({
          CiphertextBlob: Buffer.from(material?.encrypted_private_key?.S ?? '', 'base64'),
          EncryptionContext: { purpose: 'fedbroker-signing-key', key: key?.keyRef?.S ?? '' },
        }),
      )
    ).Plaintext;
    const forms = [
      Buffer.from(plaintext ?? []).toString('base64'),
      Buffer.from(plaintext ?? []).toString('hex'),
      Buffer.from(plaintext ?? []).toString('base64url'),
    ];
    const written = JSON.stringify(items) + logged.join('');
    for (const form of forms) expect(written).not.toContain(form.slice(16, 80));
    expect(written).not.toMatch(/"d":"[\w-]{20,}/);
  });

  it('cannot unwrap a key whose ciphertext is moved to another key id', async () => {
    const items = (await new DynamoDBClient({}).send(new ScanCommand({ TableName: broker.tableName }))).Items ?? [];
    const material = items.find((i) => i.sk?.S?.startsWith('KEY#'))?.material?.M;
    await expect(
      new KMSClient({}).send(
        new DecryptCommand({
          CiphertextBlob: Buffer.from(material?.encrypted_private_key?.S ?? '', 'base64'),
          EncryptionContext: { purpose: 'fedbroker-signing-key', key: 'another' },
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidCiphertextException' });
  });
});

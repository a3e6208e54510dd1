// A cold container starts loading its key registry and public keys at the start of a grant
// (KeyRing.warm), and asks KMS for a key's public half alongside its first Sign: the reads a
// first grant waits for overlap its own work instead of following it. What must hold: nothing is
// read once warm, a failed warm-up is neither reported nor kept, and the counted calls of a warm
// token stay one Sign. Real key ring over dynalite and the KMS stand-in.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startBroker, type TestBroker } from '../../support/broker.ts';
import { kmsKeyRing } from '../../support/key-ring.ts';

let broker: TestBroker;
beforeAll(async () => {
  broker = await startBroker();
});
afterAll(async () => broker.close());

const clock = { now: () => Date.now() };
const kmsCalls = () => ({ ...broker.kms.calls });
const delta = (before: Record<string, number>) =>
  Object.fromEntries(
    Object.entries(broker.kms.calls)
      .map(([k, v]) => [k, v - (before[k] ?? 0)])
      .filter(([, n]) => n !== 0),
  );

describe('KeyRing.warm', () => {
  it('loads the registry and the public keys of a cold ring, once, without waiting', async () => {
    const { ring } = await kmsKeyRing(broker, clock, 'warm');
    await ring().activeKey(); // bootstraps the registry, as a deployment's first start did
    const keyRing = ring();
    const before = kmsCalls();
    keyRing.warm();
    keyRing.warm();
    // Loaded by warm() alone: nothing here asks for a key.
    await vi.waitFor(() => expect(delta(before)).toEqual({ GetPublicKey: 1 }));
    expect(keyRing.cold).toBe(false);
    await keyRing.publishedKeys();
    expect(delta(before)).toEqual({ GetPublicKey: 1 });
  });

  it('reads nothing once the ring is warm', async () => {
    const { ring } = await kmsKeyRing(broker, clock, 'warm');
    const keyRing = ring();
    await keyRing.publishedKeys();
    const before = kmsCalls();
    keyRing.warm();
    await new Promise((resolve) => setImmediate(resolve));
    expect(delta(before)).toEqual({});
  });

  it('keeps a failed warm-up to itself: the request that needs the keys meets the failure, the next one reads again', async () => {
    const { ring } = await kmsKeyRing(broker, clock, 'warm');
    await ring().activeKey();
    const keyRing = ring();
    // Every attempt of this KMS client (the SDK's default three) fails.
    broker.kms.failNext('GetPublicKey', 'KMSInternalException', 3);
    keyRing.warm();
    await expect(keyRing.publishedKeys()).rejects.toMatchObject({ code: 'ERR_SERVICE_UNAVAILABLE' });
    expect((await keyRing.publishedKeys()).length).toBe(1);
  });
});

describe('KmsSigner.sign', () => {
  it("asks KMS for the key's public half once for all of a container's signatures, concurrent ones included", async () => {
    const { ring, signer } = await kmsKeyRing(broker, clock, 'warm');
    const key = await ring().activeKey();
    const before = kmsCalls();
    const data = new TextEncoder().encode('header.payload');
    const [first, second] = await Promise.all([signer.sign(key, data), signer.sign(key, data)]);
    expect(first.byteLength).toBe(256);
    expect(second.byteLength).toBe(256);
    await signer.sign(key, data);
    expect(delta(before)).toEqual({ GetPublicKey: 1, Sign: 3 });
  });
});

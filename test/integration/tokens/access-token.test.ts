// verifyAccessTokenSignature remembers tokens it verified (by their exact bytes), so a workload
// presenting the same access token again costs no signature check. What must still hold for a
// remembered token: it expires on time, it dies with its signing key, and nothing else matches it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SubjectTokenInvalid } from '../../../lib/errors.ts';
import { revokeKey, rotateKeys } from '../../../lib/keys/rotation.ts';
import { verifyAccessTokenSignature } from '../../../lib/tokens/access-token.ts';
import { mintAccessToken } from '../../../lib/tokens/mint.ts';
import { startBroker, type TestBroker } from '../../support/broker.ts';
import { kmsKeyRing, TEST_ISSUER, testPrincipal } from '../../support/key-ring.ts';
import { rejection } from '../../support/rejection.ts';

const ISSUER = TEST_ISSUER;
const principal = testPrincipal;
let broker: TestBroker;

beforeAll(async () => {
  broker = await startBroker();
});
afterAll(async () => broker.close());

async function setup() {
  const clock = { ms: Date.UTC(2026, 0, 1), now: () => clock.ms };
  const { store, signer, ring } = await kmsKeyRing(broker, clock, 'cache');
  const keyRing = ring();
  const keys = {
    rotationSeconds: 30 * 86400,
    prePublishSeconds: 86400,
    retirementSeconds: 2 * 86400,
    deletionWindowDays: 30,
    managedTag: 'fedbroker-test',
  };
  const rotation = { store, signer, clock, config: { keys }, onKeyEvent: () => undefined };
  const { token } = await mintAccessToken({ issuer: ISSUER, keyRing, signer, clock }, principal, 900);
  return { clock, keyRing, rotation, token, deps: { issuer: ISSUER, keyRing, clock } };
}

async function reason(p: Promise<unknown>): Promise<string> {
  const e = await rejection(p, SubjectTokenInvalid);
  return (e as SubjectTokenInvalid).reason;
}

describe('remembered access tokens', () => {
  it('accepts the same token again with the same result', async () => {
    const { token, deps } = await setup();
    const first = await verifyAccessTokenSignature(token, deps);
    await expect(verifyAccessTokenSignature(token, deps)).resolves.toEqual(first);
  });

  it('refuses a remembered token once it has expired, with reason expired', async () => {
    const { token, deps, clock } = await setup();
    await verifyAccessTokenSignature(token, deps);
    clock.ms += (900 + 5) * 1000;
    expect(await reason(verifyAccessTokenSignature(token, deps))).toBe('expired');
  });

  it('refuses a remembered token once its signing key is revoked', async () => {
    const { token, deps, clock, keyRing, rotation } = await setup();
    const kid = (await keyRing.activeKey()).kid;
    await verifyAccessTokenSignature(token, deps);
    await rotateKeys(rotation, { actor: 'test' });
    await revokeKey(rotation, kid, 'test');
    clock.ms += 61_000; // past the key ring's cache, well before the token's exp
    expect(await reason(verifyAccessTokenSignature(token, deps))).toBe('unknown_key');
  });

  it('verifies a token that differs from a remembered one in one byte afresh, and refuses it', async () => {
    const { token, deps } = await setup();
    await verifyAccessTokenSignature(token, deps);
    // A character inside the signature (the last one may carry unused bits).
    const i = token.lastIndexOf('.') + 10;
    const tampered = `${token.slice(0, i)}${token[i] === 'A' ? 'B' : 'A'}${token.slice(i + 1)}`;
    expect(await reason(verifyAccessTokenSignature(tampered, deps))).toBe('invalid');
  });

  it('does not serve a token remembered for one issuer to another issuer configuration', async () => {
    const { token, deps } = await setup();
    await verifyAccessTokenSignature(token, deps);
    expect(await reason(verifyAccessTokenSignature(token, { ...deps, issuer: 'https://other.fedbroker.test' }))).toBe('invalid');
  });
});

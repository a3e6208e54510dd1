import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { DynamoKeyStore } from '../../lib/aws/dynamo-key-store.ts';
import { Table } from '../../lib/aws/dynamo-table.ts';
import { KmsSigner } from '../../lib/aws/kms-signer.ts';
import { signJwt } from '../../lib/jwt/sign.ts';
import { KeyRing, MAX_PUBLISHED_KEYS } from '../../lib/keys/keyring.ts';
import { revokeKey, rotateKeys, type KeyEvent } from '../../lib/keys/rotation.ts';
import { startBroker, type TestBroker } from '../support/broker.ts';

const HOUR = 3600;
const DAY = 86400;
const keysConfig = {
  rotationSeconds: 30 * DAY,
  prePublishSeconds: DAY,
  retirementSeconds: 2 * DAY,
  deletionWindowDays: 30,
  managedTag: 'fedbroker-test',
};

let broker: TestBroker;
beforeAll(async () => {
  broker = await startBroker();
});
afterAll(async () => broker.close());

/** A fresh registry (own table) with a KMS-backed key ring on a fake clock. */
async function setup(alg: 'RS256' | 'ES256' = 'RS256') {
  const bootstrap = await broker.kms.createKey(alg === 'ES256' ? 'ECC_NIST_P256' : 'RSA_2048');
  const tableName = `keys-${Math.random().toString(36).slice(2, 10)}`;
  const { createTableFromServerlessYml } = await import('../../lib/local/table.ts');
  await createTableFromServerlessYml(new DynamoDBClient({}), tableName);
  const clock = { ms: Date.UTC(2026, 0, 1), now: () => clock.ms };
  const store = new DynamoKeyStore(new Table(tableName));
  const signer = new KmsSigner(new KMSClient({}), { keyId: bootstrap.Arn, alg, deletionWindowDays: 30, managedTag: 'fedbroker-test' });
  const ring = () => new KeyRing({ store, signer, clock, config: { keyCacheSeconds: 60 } });
  const events: KeyEvent[] = [];
  const deps = { store, signer, clock, config: { keys: keysConfig }, onKeyEvent: (e: KeyEvent) => void events.push(e) };
  return { bootstrap, tableName, clock, store, signer, ring, deps, events };
}

describe('key rotation', () => {
  it('never fails a verifier that caches the JWKS for the pre-publication window, across two full rotations', async () => {
    const { clock, ring, deps, events, signer } = await setup();
    const keyRing = ring();
    await keyRing.activeKey();
    let cached: JSONWebKeySet = { keys: [...(await keyRing.publishedKeys())] };
    let cachedAt = clock.ms;
    const failures: string[] = [];
    const start = clock.ms;
    // The schedule is switched on at day 31, when the bootstrap key is already due: the first run
    // must publish a next key and wait a window before it signs. The verifier refreshes its copy
    // once per window, just before the daily run — the worst moment for it.
    for (let t = 0; t <= 100 * DAY; t += 4 * HOUR) {
      clock.ms = start + t * 1000;
      if (clock.ms - cachedAt >= DAY * 1000) {
        cached = { keys: [...(await keyRing.publishedKeys())] };
        cachedAt = clock.ms;
      }
      if (t % DAY === 0 && t >= 31 * DAY) await rotateKeys(deps, { actor: 'schedule' });
      const now = Math.floor(clock.ms / 1000);
      const token = await signJwt(signer, await keyRing.activeKey(), 'JWT', {
        iss: 'https://issuer.test',
        aud: 'sts.amazonaws.com',
        sub: 't',
        iat: now,
        exp: now + HOUR,
      });
      try {
        await jwtVerify(token, createLocalJWKSet(cached), {
          issuer: 'https://issuer.test',
          audience: 'sts.amazonaws.com',
          currentDate: new Date(clock.ms),
        });
      } catch (e) {
        failures.push(`day ${t / DAY}: ${(e as Error).message}`);
      }
    }
    expect(failures).toEqual([]);
    expect(events.filter((e) => e.to === 'active')).toHaveLength(3);
    expect(events.filter((e) => e.to === 'removed').length).toBeGreaterThanOrEqual(1);
  });

  it('leaves exactly one active key when two rotations race', async () => {
    const { clock, ring, deps, store } = await setup();
    await ring().activeKey();
    await rotateKeys(deps, { actor: 'a' });
    clock.ms += 31 * DAY * 1000;
    const results = await Promise.allSettled([
      rotateKeys(deps, { actor: 'a' }),
      rotateKeys(deps, { actor: 'b' }),
      rotateKeys(deps, { actor: 'c' }),
    ]);
    expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
    const { keys, active } = await store.readRegistry();
    expect(keys.filter((k) => k.status === 'active').map((k) => k.kid)).toEqual([active?.kid]);
  });

  it('lets only one of two writers move the active pointer from the same version', async () => {
    const { ring, store } = await setup();
    await ring().activeKey();
    const { active } = await store.readRegistry();
    const won = await Promise.all([store.setActivePointer('a', active?.version), store.setActivePointer('b', active?.version)]);
    expect(won.filter(Boolean)).toHaveLength(1);
  });

  it('does not activate by hand before the next key has been published for the window, and says when it may', async () => {
    const { ring, deps, store } = await setup();
    const before = (await ring().activeKey()).kid;
    const report = await rotateKeys(deps, { actor: 'operator', manual: true });
    const next = (await store.readRegistry()).keys.find((k) => k.status === 'next');
    expect(report.readyAt).toBe((next?.createdAt ?? 0) + deps.config.keys.prePublishSeconds);
    expect(report.skipped).toMatch(/before it may sign; use --force in an emergency$/);
    expect((await store.readRegistry()).active?.kid).toBe(before);
  });

  it('activates at once with force, and says so in the key event', async () => {
    const { ring, deps, events, store } = await setup();
    await ring().activeKey();
    await rotateKeys(deps, { actor: 'operator', manual: true, force: true });
    const activated = events.find((e) => e.to === 'active');
    expect(activated).toMatchObject({ forced: true, actor: 'operator', from: 'next' });
    expect((await store.readRegistry()).active?.kid).toBe(activated?.kid);
  });

  it('removes a revoked key from the JWKS immediately and activates the next one', async () => {
    const { ring, deps, store } = await setup();
    const before = await ring().activeKey();
    await rotateKeys(deps, { actor: 'schedule' });
    await revokeKey(deps, before.kid, 'operator');
    const fresh = ring();
    expect((await fresh.publishedKeys()).map((k) => k.kid)).not.toContain(before.kid);
    expect((await fresh.activeKey()).kid).not.toBe(before.kid);
    expect((await store.readRegistry()).keys.find((k) => k.kid === before.kid)?.status).toBe('revoked');
  });

  it('schedules KMS deletion only for keys rotation created, after their publication window', async () => {
    const { clock, ring, deps, bootstrap } = await setup();
    const keyRing = ring();
    await keyRing.activeKey();
    await rotateKeys(deps, { actor: 'schedule' });
    clock.ms += 31 * DAY * 1000;
    await rotateKeys(deps, { actor: 'schedule' });
    const rotated = (await deps.store.readRegistry()).keys.find((k) => k.status === 'active');
    clock.ms += 31 * DAY * 1000;
    await rotateKeys(deps, { actor: 'schedule' });
    clock.ms += 3 * DAY * 1000;
    await rotateKeys(deps, { actor: 'schedule' });
    clock.ms += 31 * DAY * 1000;
    await rotateKeys(deps, { actor: 'schedule' });
    clock.ms += 3 * DAY * 1000;
    await rotateKeys(deps, { actor: 'schedule' });
    expect(broker.kms.stateOf(bootstrap.KeyId)).toBe('Enabled');
    expect(broker.kms.stateOf(rotated?.keyRef ?? '')).toBe('PendingDeletion');
    expect(broker.kms.tagsOf(rotated?.keyRef ?? '')).toContainEqual({ TagKey: 'fedbroker:managed', TagValue: 'fedbroker-test' });
  });

  it(`never publishes more than ${MAX_PUBLISHED_KEYS} keys`, async () => {
    const { ring, deps, clock } = await setup('ES256');
    await ring().activeKey();
    for (let i = 0; i < 14; i++) {
      await rotateKeys(deps, { actor: 'operator', manual: true, force: true });
      clock.ms += HOUR * 1000;
    }
    expect((await ring().publishedKeys()).length).toBeLessThanOrEqual(MAX_PUBLISHED_KEYS);
  });
});

describe('configuration that would let tokens outlive their key', () => {
  it('is refused at start', async () => {
    const { loadConfig } = await import('../../lib/config.ts');
    expect(() => loadConfig({ ...broker.env, FEDBROKER_ID_TOKEN_MAX_TTL: '43200', FEDBROKER_KEY_RETIREMENT_SECONDS: '3600' })).toThrow(
      /FEDBROKER_KEY_RETIREMENT_SECONDS/,
    );
  });
});

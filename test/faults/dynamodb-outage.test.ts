// DynamoDB stopped mid-run: a dynalite with a persistent path on a fixed port is stopped and
// started again under the running broker. Exchanges and admin writes during the outage answer 503
// with Retry-After; afterwards the store holds exactly what the API acknowledged (no partial
// write, no lost update) and the broker recovers without a restart.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDynalite } from '../../lib/local/dynalite.ts';
import { createTableFromServerlessYml } from '../../lib/local/table.ts';
import type { TrustRelationship } from '../../lib/trust/schema.ts';
import { freePort } from '../support/free-port.ts';
import { expectUnavailable, type Reply } from '../support/refusal.ts';
import { startScriptedIssuer, type ScriptedIssuer } from '../support/scripted-issuer.ts';
import { ciRelationship, external, startExchangeEnv, type ExchangeEnv } from '../support/security-env.ts';
import { tenantAdmin } from '../support/tenants.ts';

const BASE = '/v1/tenants/acme/trust-relationships';
let env: ExchangeEnv;
let upstream: ScriptedIssuer;
let dir: string;
let port: number;
let dynamo: { endpoint: string; close(): Promise<void> } | undefined;
let admin: ReturnType<typeof tenantAdmin>;
let adminToken: string;

const stop = async () => {
  await dynamo?.close();
  dynamo = undefined;
};
const start = async () => {
  dynamo = await startDynalite({ path: dir, port });
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fedbroker-dynamo-'));
  port = await freePort();
  await start();
  env = await startExchangeEnv();
  await createTableFromServerlessYml(
    new DynamoDBClient({ region: 'us-east-1', endpoint: dynamo!.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }),
    env.broker.tableName,
  );
  env.broker.coldStart({ AWS_ENDPOINT_URL_DYNAMODB: dynamo!.endpoint });
  admin = tenantAdmin(env.broker.tableName);
  upstream = await startScriptedIssuer();
  await admin.tenant('acme', [ciRelationship(upstream.issuer)]);
  for (let i = 1; i <= 4; i++) await admin.tenant(`bystander-${i}`, [ciRelationship(upstream.issuer)]);
  const res = await env.exchange(external(await upstream.token({ sub: 'repo:acme/app' })));
  expect(res.status, res.text).toBe(200);
  adminToken = res.body.access_token as string;
});
afterAll(async () => {
  await stop();
  await upstream.close();
  await env.close();
  rmSync(dir, { recursive: true, force: true });
});

const doc = (description: string) => ({
  kind: 'oidc',
  issuer: upstream.issuer,
  audiences: ['fedbroker'],
  conditions: { StringLike: { sub: 'repo:acme/*' } },
  scopes: ['id-token:issue'],
  description,
});
const storedRelationships = async () =>
  (await tenantAdmin(env.broker.tableName).store.readTenant('acme')).relationships.sort((a: TrustRelationship, b: TrustRelationship) =>
    a.id.localeCompare(b.id),
  );

describe('DynamoDB stopped under a running broker', () => {
  it('refuses writes and exchanges with 503 during the outage, keeps exactly what was acknowledged, and recovers by itself', async () => {
    // Acknowledged before the outage: two creates, one replace, one create + delete.
    const acknowledged = new Map<string, unknown>();
    for (const id of ['one', 'two', 'three']) {
      const res = await env.api('POST', BASE, adminToken, { ...doc(`created ${id}`), id });
      expect(res.status, res.text).toBe(201);
      acknowledged.set(id, res.body);
    }
    const replaced = await env.api('PUT', `${BASE}/one`, adminToken, doc('replaced one'), { 'If-Match': '"1"' });
    expect(replaced.status, replaced.text).toBe(200);
    acknowledged.set('one', replaced.body);
    expect((await env.api('DELETE', `${BASE}/three`, adminToken, undefined, { 'If-Match': '"1"' })).status).toBe(204);
    acknowledged.delete('three');
    const before = await storedRelationships();

    await stop();
    const refused = [
      await env.api('POST', BASE, adminToken, { ...doc('created during the outage'), id: 'four' }),
      await env.api('PUT', `${BASE}/two`, adminToken, doc('replaced during the outage'), { 'If-Match': '"1"' }),
      await env.api('DELETE', `${BASE}/one`, adminToken, undefined, { 'If-Match': '"2"' }),
      await env.api('GET', BASE, adminToken),
      // A tenant this container has not read yet: its relationships cannot be loaded.
      await env.exchange(external(await upstream.token({ sub: 'repo:acme/app' }), 'bystander-1')),
    ];
    for (const res of refused) expectUnavailable(res, { presented: [adminToken] });

    // A new container during the outage cannot load its key registry or any tenant either.
    env.broker.coldStart();
    expectUnavailable(await env.exchange(external(await upstream.token({ sub: 'repo:acme/app' }))));
    expectUnavailable(await env.api('GET', '/.well-known/jwks.json', undefined));

    await start();
    const after = await storedRelationships();
    expect(after).toEqual(before);
    expect(Object.fromEntries(after.filter((r) => acknowledged.has(r.id)).map((r) => [r.id, r]))).toEqual(Object.fromEntries(acknowledged));
    expect(after.map((r) => r.id)).toEqual(['ci', 'one', 'two']);

    // Recovery without restarting anything: the container that saw the outage serves again.
    expect((await env.exchange(external(await upstream.token({ sub: 'repo:acme/app' }), 'bystander-1'))).status).toBe(200);
    expect((await env.api('POST', BASE, adminToken, { ...doc('created after the outage'), id: 'four' })).status).toBe(201);
    // No lost update: the version acknowledged before the outage is still the one to match.
    expect((await env.api('PUT', `${BASE}/one`, adminToken, doc('stale writer'), { 'If-Match': '"1"' })).status).toBe(412);
    const next = await env.api('PUT', `${BASE}/one`, adminToken, doc('replaced after the outage'), { 'If-Match': '"2"' });
    expect(next.status, next.text).toBe(200);
    expect(next.body.version).toBe(3);
  });

  it('leaves every write racing the stop either acknowledged and stored whole, or refused and absent', async () => {
    // Three writers, eight creates each; DynamoDB stops once four writes have been acknowledged.
    let acknowledged = 0;
    let fourth: () => void = () => undefined;
    const fourAcknowledged = new Promise<void>((resolve) => (fourth = resolve));
    const writer = async (w: number) => {
      const out: [string, Reply][] = [];
      for (let i = 0; i < 8; i++) {
        const id = `race-${w}-${i}`;
        const res = await env.api('POST', BASE, adminToken, { ...doc(`racing ${id}`), id });
        out.push([id, res]);
        if (res.status === 201 && ++acknowledged === 4) fourth();
      }
      return out;
    };
    const stopping = fourAcknowledged.then(stop);
    const results = (await Promise.all([0, 1, 2].map(writer))).flat();
    await stopping;
    await start();

    const stored = new Map((await storedRelationships()).map((r) => [r.id, r]));
    for (const [id, res] of results) {
      expect([201, 503], res.text).toContain(res.status);
      if (res.status === 201) expect(stored.get(id)).toEqual(res.body);
      else {
        expectUnavailable(res);
        expect(stored.has(id)).toBe(false);
      }
    }
    expect(results.filter(([, r]) => r.status === 201).length).toBeGreaterThanOrEqual(4);
    expect(results.some(([, r]) => r.status === 503)).toBe(true);
  });

  it('answers 503 for tenant reads on the exchange path while stopped, then serves them once started', async () => {
    await stop();
    const token = await upstream.token({ sub: 'repo:acme/app' });
    expectUnavailable(await env.exchange(external(token, 'bystander-2')), { presented: [token] });
    await start();
    expect((await env.exchange(external(await upstream.token({ sub: 'repo:acme/app' }), 'bystander-2'))).status).toBe(200);
  });
});

// DynamoDB throttling: a proxy in front of dynalite answers ProvisionedThroughputExceededException
// (AWS JSON 1.0, HTTP 400) on command. Exchanges and admin writes answer 503 with Retry-After, a
// throttled conditional write leaves nothing behind, and everything works again once it stops.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DynamoTrustStore } from '../../lib/aws/dynamo-trust-store.ts';
import type { ThrottleProxy } from '../support/dynamodb-throttle-proxy.ts';
import { startProxiedDynamoEnv, type ProxiedDynamoEnv } from '../support/proxied-dynamo.ts';
import { expectUnavailable } from '../support/refusal.ts';
import type { ScriptedIssuer } from '../support/scripted-issuer.ts';
import { external, type ExchangeEnv } from '../support/security-env.ts';

const BASE = '/v1/tenants/acme/trust-relationships';
let env: ExchangeEnv;
let proxy: ThrottleProxy;
let upstream: ScriptedIssuer;
let adminToken: string;
/** Reads dynalite directly, past the proxy, to see what was really stored. */
let store: DynamoTrustStore;

let setup: ProxiedDynamoEnv;
beforeAll(async () => {
  setup = await startProxiedDynamoEnv({ bystanders: ['bystander-1', 'bystander-2', 'bystander-3'] });
  ({ env, proxy, store, upstream, adminToken } = setup);
});
afterAll(() => setup?.close());

const stored = async (id: string) => (await store.readTenant('acme')).relationships.find((r) => r.id === id);
const doc = (id: string) => ({
  id,
  kind: 'oidc',
  issuer: upstream.issuer,
  audiences: ['fedbroker'],
  conditions: { StringLike: { sub: 'repo:acme/*' } },
  scopes: ['id-token:issue'],
});
const exchangeFor = async (tenant: string) => env.exchange(external(await upstream.token({ sub: 'repo:acme/app' }), tenant));

describe('while DynamoDB throttles', () => {
  it('an exchange that must read its tenant answers 503 with Retry-After, then 200 once throttling stops', async () => {
    const before = proxy.stats.throttled;
    proxy.throttleNext(Infinity);
    try {
      expectUnavailable(await exchangeFor('bystander-1'));
    } finally {
      proxy.stop();
    }
    expect(proxy.stats.throttled).toBeGreaterThan(before);
    expect((await exchangeFor('bystander-1')).status).toBe(200);
  });

  it('an admin write answers 503 with Retry-After and stores nothing', async () => {
    proxy.throttleNext(Infinity);
    try {
      expectUnavailable(await env.api('POST', BASE, adminToken, doc('throttled')), { presented: [adminToken] });
    } finally {
      proxy.stop();
    }
    expect(await stored('throttled')).toBeUndefined();
    expect((await env.api('POST', BASE, adminToken, doc('throttled'))).status).toBe(201);
  });

  it('an admin write whose conditional put alone is throttled answers 503 and stores nothing', async () => {
    proxy.throttleNext(Infinity, 'PutItem');
    try {
      expectUnavailable(await env.api('POST', BASE, adminToken, doc('put-throttled')), { presented: [adminToken] });
    } finally {
      proxy.stop();
    }
    expect(await stored('put-throttled')).toBeUndefined();
    const created = await env.api('POST', BASE, adminToken, doc('put-throttled'));
    expect(created.status, created.text).toBe(201);
    expect(await stored('put-throttled')).toEqual(created.body);
  });

  it('a replace whose conditional put is throttled keeps the acknowledged version (no lost update)', async () => {
    const created = await env.api('POST', BASE, adminToken, doc('versioned'));
    expect(created.status).toBe(201);
    proxy.throttleNext(Infinity, 'PutItem');
    try {
      expectUnavailable(
        await env.api('PUT', `${BASE}/versioned`, adminToken, { ...doc('versioned'), description: 'lost?' }, { 'If-Match': '"1"' }),
      );
    } finally {
      proxy.stop();
    }
    expect(await stored('versioned')).toEqual(created.body);
    const replaced = await env.api(
      'PUT',
      `${BASE}/versioned`,
      adminToken,
      { ...doc('versioned'), description: 'kept' },
      { 'If-Match': '"1"' },
    );
    expect(replaced.status, replaced.text).toBe(200);
    // The failed write may have used up a number of the id's version counter: versions only ever
    // increase, they are not dense (lib/directory/ports.ts, nextVersion).
    expect(replaced.body.version).toBeGreaterThan(1);
    expect(await stored('versioned')).toMatchObject({ description: 'kept', version: replaced.body.version });
  });

  it('a container starting cold answers 503 (its key registry cannot be read), then recovers', async () => {
    env.broker.coldStart();
    proxy.throttleNext(Infinity);
    try {
      expectUnavailable(await exchangeFor('bystander-2'));
      expectUnavailable(await env.api('GET', '/.well-known/jwks.json', undefined));
    } finally {
      proxy.stop();
    }
    expect((await exchangeFor('bystander-2')).status).toBe(200);
  });

  it('a short burst of throttling on one request is either absorbed by a retry or answered 503, never 500', async () => {
    proxy.throttleNext(1);
    const res = await exchangeFor('bystander-3');
    proxy.stop();
    expect([200, 503]).toContain(res.status);
    if (res.status === 503) expectUnavailable(res);
    expect((await exchangeFor('bystander-3')).status).toBe(200);
  });
});

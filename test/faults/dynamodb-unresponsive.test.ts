// DynamoDB that accepts connections and never answers (a black hole, not a refusal): the proxy in
// front of dynalite reads every request and says nothing. The SDK's own bounds (SDK_DEFAULTS) are
// all that end such a call, so a request that needs DynamoDB must answer 503 with Retry-After
// within maxAttempts × requestTimeout (+1 s slack), never 500 and never hang; the store keeps
// exactly what was acknowledged, and the same broker serves again once DynamoDB answers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SDK_DEFAULTS } from '../../lib/aws/errors.ts';
import type { DynamoTrustStore } from '../../lib/aws/dynamo-trust-store.ts';
import type { ThrottleProxy } from '../support/dynamodb-throttle-proxy.ts';
import { startProxiedDynamoEnv, type ProxiedDynamoEnv } from '../support/proxied-dynamo.ts';
import { expectUnavailable, type Reply } from '../support/refusal.ts';
import type { ScriptedIssuer } from '../support/scripted-issuer.ts';
import { external, type ExchangeEnv } from '../support/security-env.ts';

/** The longest a request may take to fail: every attempt runs out its request timeout, plus slack. */
const BOUND_MS = SDK_DEFAULTS.maxAttempts * SDK_DEFAULTS.requestHandler.requestTimeout + 1000;
const BASE = '/v1/tenants/acme/trust-relationships';
let env: ExchangeEnv;
let proxy: ThrottleProxy;
let upstream: ScriptedIssuer;
let adminToken: string;
/** Reads dynalite directly, past the proxy, to see what was really stored. */
let store: DynamoTrustStore;

let setup: ProxiedDynamoEnv;
beforeAll(async () => {
  setup = await startProxiedDynamoEnv({ bystanders: ['bystander'] });
  ({ env, proxy, store, upstream, adminToken } = setup);
});
afterAll(() => setup?.close());

const stored = async (id: string) => (await store.readTenant('acme')).relationships.find((r) => r.id === id);
const doc = (id: string, description = id) => ({
  id,
  kind: 'oidc',
  issuer: upstream.issuer,
  audiences: ['fedbroker'],
  conditions: { StringLike: { sub: 'repo:acme/*' } },
  scopes: ['id-token:issue'],
  description,
});
const exchangeFor = async (tenant: string) => env.exchange(external(await upstream.token({ sub: 'repo:acme/app' }), tenant));

/** Sends the requests at once while DynamoDB is a black hole; asserts each was held there and answered in time. */
async function whileUnresponsive(requests: (() => Promise<Reply>)[]): Promise<Reply[]> {
  const held = proxy.stats.held;
  proxy.blackHole();
  try {
    const timed = await Promise.all(
      requests.map(async (send) => {
        const started = performance.now();
        // A hang past the bound fails here, with the proxy switched back, instead of at the test timeout.
        let timer: NodeJS.Timeout | undefined;
        const hung = new Promise<Reply>(
          (resolve) => (timer = setTimeout(() => resolve({ status: 0, headers: {}, text: 'no answer', body: {} }), BOUND_MS + 2000)),
        );
        const res = await Promise.race([send(), hung]).finally(() => clearTimeout(timer));
        return { res, elapsed: performance.now() - started };
      }),
    );
    for (const { res, elapsed } of timed) expect(elapsed, `answered ${res.status} after ${Math.round(elapsed)} ms`).toBeLessThan(BOUND_MS);
    // Each refusal comes from DynamoDB not answering: every attempt of every request was held.
    expect(proxy.stats.held - held).toBeGreaterThanOrEqual(requests.length * SDK_DEFAULTS.maxAttempts);
    return timed.map((t) => t.res);
  } finally {
    proxy.stop();
  }
}

/** What must never reach a caller: where DynamoDB is, which table, or the SDK's timeout details. */
const secrets = () => [new URL(proxy.url).host, env.broker.tableName, 'TimeoutError', 'ETIMEDOUT', 'smithy', 'requestTimeout'];

describe('while DynamoDB accepts connections but never answers', () => {
  it(
    'answers admin writes 503 with Retry-After within the SDK bound, stores nothing, and keeps the acknowledged version',
    async () => {
      const created = await env.api('POST', BASE, adminToken, doc('kept'));
      expect(created.status, created.text).toBe(201);

      const refused = await whileUnresponsive([
        () => env.api('POST', BASE, adminToken, doc('refused')),
        () => env.api('PUT', `${BASE}/kept`, adminToken, doc('kept', 'replaced during the outage'), { 'If-Match': '"1"' }),
      ]);
      for (const res of refused) expectUnavailable(res, { presented: [adminToken], secrets: secrets() });

      // Nothing partial: the acknowledged relationship reads back unchanged, the refused one is absent.
      expect(await stored('kept')).toEqual(created.body);
      expect(await stored('refused')).toBeUndefined();

      // The same broker, not restarted, serves again: reads, creates and replaces from the acknowledged version.
      const listed = await env.api('GET', BASE, adminToken);
      expect(listed.status, listed.text).toBe(200);
      expect(JSON.stringify(listed.body)).not.toContain('refused');
      const retried = await env.api('POST', BASE, adminToken, doc('refused'));
      expect(retried.status, retried.text).toBe(201);
      expect(await stored('refused')).toEqual(retried.body);
      const replaced = await env.api('PUT', `${BASE}/kept`, adminToken, doc('kept', 'replaced after the outage'), { 'If-Match': '"1"' });
      expect(replaced.status, replaced.text).toBe(200);
      expect(replaced.body.version).toBe(2);
    },
    2 * BOUND_MS + 10_000,
  );

  it(
    'answers an exchange for a tenant it has not cached 503 with Retry-After within the SDK bound, then 200 once DynamoDB answers',
    async () => {
      const token = await upstream.token({ sub: 'repo:acme/app' });
      const [res] = await whileUnresponsive([() => env.exchange(external(token, 'bystander'))]);
      expectUnavailable(res!, { presented: [token], secrets: secrets() });

      const served = await exchangeFor('bystander');
      expect(served.status, served.text).toBe(200);
      expect(served.body.access_token).toEqual(expect.any(String));
    },
    2 * BOUND_MS + 10_000,
  );
});

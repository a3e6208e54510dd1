// The setup the DynamoDB fault suites share: a broker whose DynamoDB endpoint is a ThrottleProxy
// in front of its dynalite (throttling, unprocessed batches or a black hole on command), a reader
// that goes past the proxy to see what was really stored, a scripted upstream trusted by tenant
// `acme` and the given bystander tenants, and an admin access token of `acme`.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { expect } from 'vitest';
import { Table } from '../../lib/aws/dynamo-table.ts';
import { DynamoTrustStore } from '../../lib/aws/dynamo-trust-store.ts';
import { startThrottleProxy, type ThrottleProxy } from './dynamodb-throttle-proxy.ts';
import { startScriptedIssuer, type ScriptedIssuer } from './scripted-issuer.ts';
import { ciRelationship, external, startExchangeEnv, type ExchangeEnv } from './security-env.ts';
import { tenantAdmin } from './tenants.ts';

export interface ProxiedDynamoEnv {
  env: ExchangeEnv;
  proxy: ThrottleProxy;
  /** Reads dynalite directly, past the proxy. */
  store: DynamoTrustStore;
  upstream: ScriptedIssuer;
  adminToken: string;
  close(): Promise<void>;
}

export async function startProxiedDynamoEnv(options: { bystanders: string[] }): Promise<ProxiedDynamoEnv> {
  const env = await startExchangeEnv();
  const proxy = await startThrottleProxy(env.broker.dynamodb.endpoint);
  env.broker.coldStart({ AWS_ENDPOINT_URL_DYNAMODB: proxy.url });
  const direct = new DynamoDBClient({
    region: 'us-east-1',
    endpoint: env.broker.dynamodb.endpoint,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const store = new DynamoTrustStore(new Table(env.broker.tableName, direct));
  const upstream = await startScriptedIssuer();
  const admin = tenantAdmin(env.broker.tableName);
  await admin.tenant('acme', [ciRelationship(upstream.issuer)]);
  for (const tenant of options.bystanders) await admin.tenant(tenant, [ciRelationship(upstream.issuer)]);
  const res = await env.exchange(external(await upstream.token({ sub: 'repo:acme/app' })));
  expect(res.status, res.text).toBe(200);
  // The broker really goes through the proxy.
  expect(proxy.stats.forwarded).toBeGreaterThan(0);
  return {
    env,
    proxy,
    store,
    upstream,
    adminToken: res.body.access_token as string,
    async close() {
      proxy.stop();
      await Promise.all([proxy.close(), upstream.close()]);
      direct.destroy();
      await env.close();
    },
  };
}

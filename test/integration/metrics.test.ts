import { afterAll, beforeAll, describe, expect, it, vi, type MockInstance } from 'vitest';
import { startBroker, type TestBroker } from '../support/broker.ts';
import { postExchange, TOKEN_TYPE } from '../support/exchange-client.ts';
import { startGateway } from '../support/gateway.ts';
import { tenantAdmin } from '../support/tenants.ts';
import { startUpstreamIssuer, type UpstreamIssuer } from '../support/upstream-issuer.ts';

// CloudWatch embedded metric format lines, as the handlers print them with metrics enabled.
let broker: TestBroker;
let gateway: Awaited<ReturnType<typeof startGateway>>;
let upstream: UpstreamIssuer;
let spy: MockInstance;
const out: string[] = [];

interface Emf {
  _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] };
  [key: string]: unknown;
}

const emf = (): Emf[] =>
  out
    .join('')
    .split('\n')
    .filter((l) => l.includes('"_aws"'))
    .map((l) => JSON.parse(l) as Emf);
const named = (name: string) => emf().filter((e) => e._aws.CloudWatchMetrics[0]?.Metrics.some((m) => m.Name === name));

beforeAll(async () => {
  broker = await startBroker({ env: { FEDBROKER_LOCAL: 'true', POWERTOOLS_METRICS_DISABLED: 'false' } });
  gateway = await startGateway((m) => broker.load(m));
  upstream = await startUpstreamIssuer();
  await tenantAdmin(broker.tableName).tenant('acme', [
    {
      kind: 'oidc',
      id: 'ci',
      issuer: upstream.issuer,
      audiences: ['fedbroker'],
      conditions: { StringEquals: { sub: 'ci' } },
      scopes: ['id-token:issue'],
      id_token_audiences: ['sts.amazonaws.com', 'api://*'],
    },
  ]);
  spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  });
});
afterAll(async () => {
  spy?.mockRestore();
  await Promise.all([gateway?.close(), upstream?.close()]);
  await broker?.close();
});

describe('metrics', () => {
  it('counts exchanges by outcome and reason, tokens by capped audience, KMS latency and JWKS fetches, namespace fedbroker', async () => {
    const external = () => upstream.token({ sub: 'ci' });
    const at = await postExchange(gateway.url, { subject_token: await external(), subject_token_type: TOKEN_TYPE.idToken, tenant: 'acme' });
    expect(at.status).toBe(200);
    const id = await postExchange(gateway.url, {
      subject_token: await external(),
      subject_token_type: TOKEN_TYPE.idToken,
      tenant: 'acme',
      requested_token_type: TOKEN_TYPE.idToken,
      audience: 'api://team-42',
    });
    expect(id.status).toBe(200);
    const expired = await upstream.token({ sub: 'ci' }, { now: Date.now() - 3600_000 });
    expect(
      (await postExchange(gateway.url, { subject_token: expired, subject_token_type: TOKEN_TYPE.idToken, tenant: 'acme' })).status,
    ).toBe(400);

    expect(emf().every((e) => e._aws.CloudWatchMetrics.every((m) => m.Namespace === 'fedbroker'))).toBe(true);
    const exchanges = named('Exchanges');
    expect(exchanges.filter((e) => e.outcome === 'success' && e.reason === 'none')).toHaveLength(2);
    expect(exchanges.filter((e) => e.outcome === 'refused' && e.reason === 'expired')).toHaveLength(1);
    expect(exchanges[0]?._aws.CloudWatchMetrics[0]?.Dimensions[0]).toEqual(expect.arrayContaining(['outcome', 'reason']));
    const issued = named('TokensIssued').map((e) => [e.token_type, e.audience]);
    expect(issued).toEqual([
      ['access_token', 'fedbroker'],
      ['id_token', 'other'],
    ]);
    expect(named('KmsSignLatency').length).toBeGreaterThanOrEqual(2);
    const fetches = named('UpstreamJwksFetches');
    expect(fetches).toHaveLength(1);
    expect(fetches[0]).not.toHaveProperty('UpstreamJwksFetchFailures');
  });

  it('writes a granted exchange and its token as one EMF line, each under its own dimension set', async () => {
    const before = emf().length;
    const at = await postExchange(gateway.url, {
      subject_token: await upstream.token({ sub: 'ci' }),
      subject_token_type: TOKEN_TYPE.idToken,
      tenant: 'acme',
    });
    expect(at.status).toBe(200);
    const lines = emf()
      .slice(before)
      .filter((e) => e._aws.CloudWatchMetrics[0]?.Metrics.some((m) => m.Name === 'Exchanges' || m.Name === 'TokensIssued'));
    expect(lines).toHaveLength(1);
    expect(lines[0]?._aws.CloudWatchMetrics[0]?.Metrics.map((m) => m.Name).sort()).toEqual(['Exchanges', 'TokensIssued']);
    expect(lines[0]?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([
      ['service', 'outcome', 'reason'],
      ['service', 'token_type', 'audience'],
    ]);
  });

  it('flushes once per invocation and prints nothing for a request without metrics', async () => {
    const before = emf().length;
    expect((await fetch(`${gateway.url}/.well-known/openid-configuration`)).status).toBe(200);
    expect(emf().length).toBe(before);
    expect(out.join('')).not.toMatch(/No application metrics/);
  });
  it(`counts refusal records the per-source limit suppressed (AuditRefusalsSuppressed), while Exchanges counts every refusal`, async () => {
    const { REFUSAL_RECORDS_PER_MINUTE: N } = await import('../../lib/audit/refusal-limiter.ts');
    const before = {
      refused: named('Exchanges').filter((e) => e.outcome === 'refused').length,
      suppressed: named('AuditRefusalsSuppressed').length,
    };
    // The limiter refills with the clock: frozen, a slow machine cannot refill it mid-flood.
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      // A tenant nobody registered: refused, and its refusals are limited like any other tenant's.
      for (let i = 0; i < N + 4; i++) {
        expect(
          (
            await postExchange(gateway.url, {
              subject_token: await upstream.token({ sub: 'ci' }),
              subject_token_type: TOKEN_TYPE.idToken,
              tenant: 'flood',
            })
          ).status,
        ).toBe(400);
      }
    } finally {
      vi.useRealTimers();
    }
    expect(named('Exchanges').filter((e) => e.outcome === 'refused').length - before.refused).toBe(N + 4);
    const suppressed = named('AuditRefusalsSuppressed').slice(before.suppressed);
    expect(suppressed.reduce((n, e) => n + Number(e.AuditRefusalsSuppressed), 0)).toBe(4);
  });
});

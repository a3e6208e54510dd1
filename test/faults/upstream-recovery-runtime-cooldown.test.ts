// Recovery from an upstream outage on the key cache the runtime itself builds (lib/handlers/runtime.ts,
// the product's configured timeout and cooldown, no test-made UpstreamKeys): refused for exactly
// the documented cooldown, told when to come back, then admitted again without intervention.
// Time is moved through the broker's clock port (lib/clock.ts), so nothing sleeps for 30 s.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../../lib/clock.ts';
import type { Runtime } from '../../lib/handlers/runtime.ts';
import { expectUnavailable, type Reply } from '../support/refusal.ts';
import { DISCOVERY_PATH, JWKS_PATH, type Behaviour, type ScriptedIssuer } from '../support/scripted-issuer.ts';
import { external, startExchangeEnv, type ExchangeEnv } from '../support/security-env.ts';

// README, token exchange: "refetch on unknown `kid` at most every 30 s"; the cooldown applies
// to every refresh, failed or not (lib/upstream/key-cache.ts).
const DOCUMENTED_COOLDOWN_S = 30;

let env: ExchangeEnv;
let rt: Runtime;
let systemClock: Clock;
let realNow: Clock['now'];
let now = 0;

beforeAll(async () => {
  // No upstream settings: the runtime's defaults are what is under test.
  env = await startExchangeEnv();
  // The broker's module graph, which the gateway's handlers share: this is their clock and runtime.
  ({ systemClock } = await env.broker.load<{ systemClock: Clock }>('lib/clock.ts'));
  realNow = systemClock.now;
  rt = (await env.broker.load<{ runtime: () => Runtime }>('lib/handlers/runtime.ts')).runtime();
});
afterEach(() => {
  systemClock.now = realNow;
});
afterAll(async () => {
  await env.close();
});

const retryAfter = (res: Reply) => Number(res.headers instanceof Headers ? res.headers.get('retry-after') : NaN);
const hits = (u: ScriptedIssuer) => ({ discovery: u.hits[DISCOVERY_PATH] ?? 0, jwks: u.hits[JWKS_PATH] ?? 0 });

describe("with the runtime's own upstream key cache", () => {
  it.each([
    ['a JWKS answering 500', JWKS_PATH, { kind: 'status', status: 500 } as Behaviour],
    ['a discovery document that never answers', DISCOVERY_PATH, { kind: 'hang' } as Behaviour],
  ])(
    'after %s, exchanges are refused for the documented cooldown and recover by themselves once it has passed',
    async (_name, path, behaviour) => {
      const { upstream, tenant } = await env.freshUpstream();
      const exchange = async () => env.exchange(external(await upstream.token({ sub: 'repo:acme/app' }), tenant));
      // A stopped clock the test moves; everything else in the broker stays real.
      now = realNow();
      systemClock.now = () => now;
      const fetches = rt.upstreamKeys.stats().fetches;

      upstream.on(path, behaviour);
      const started = performance.now();
      const failed = await exchange();
      expect(performance.now() - started).toBeLessThan(rt.config.upstream.timeoutMs + 1000);
      expectUnavailable(failed, { secrets: [upstream.host] });
      expect(retryAfter(failed)).toBe(DOCUMENTED_COOLDOWN_S);
      expect(rt.upstreamKeys.stats().fetches - fetches).toBe(1);

      // Healed, one second before the cooldown ends: refused without asking, told to come back in 1 s.
      upstream.heal();
      const before = hits(upstream);
      now += (DOCUMENTED_COOLDOWN_S - 1) * 1000;
      const early = await exchange();
      expectUnavailable(early);
      expect(retryAfter(early)).toBe(1);
      expect(hits(upstream)).toEqual(before);

      now += 1000;
      const granted = await exchange();
      expect(granted.status, granted.text).toBe(200);
      expect(granted.body.access_token).toMatch(/^eyJ/);
      expect(hits(upstream)).toEqual({ discovery: before.discovery + 1, jwks: before.jwks + 1 });
      expect(rt.upstreamKeys.stats().fetches - fetches).toBe(2);
    },
  );
});

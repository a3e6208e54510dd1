// One child process of `npm run bench` per (alg, signer): functions/token.ts's handler invoked
// in-process with API Gateway v2 events (the whole path: middy, form parsing, subject-token
// verification, tenant directory, signing, audit, metrics) against raw jose, its own stages
// timed alone, and the DynamoDB/KMS calls it makes counted per warm token. A process per
// configuration, because the runtime is a per-container singleton built from the environment.
//   node bench/micro.ts <RS256|ES256> <local|kms|kms-data-key> [profile]
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { decodeProtectedHeader, generateKeyPair, importJWK, jwtVerify, SignJWT, type JWK } from 'jose';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { Table } from '../lib/aws/dynamo-table.ts';
import { runtime } from '../lib/handlers/runtime.ts';
import { verifyAccessToken } from '../lib/tokens/access-token.ts';
import { mintIdToken } from '../lib/tokens/mint.ts';
import { httpEvent, lambdaContext } from '../test/support/events.ts';
import { tenantAdmin } from '../test/support/tenants.ts';
import { startUpstreamIssuer } from '../test/support/upstream-issuer.ts';
import { externalForm, idTokenForm, median, report, spawnStandIns, type Alg, type SignerMode } from './support.ts';

const alg = (process.argv[2] ?? 'RS256') as Alg;
const signer = (process.argv[3] ?? 'local') as SignerMode;
// `profile`: only the ID-token path; `profile-exchange`: only the exchange (external token → access token).
const profileOnly = process.argv[4] === 'profile' || process.argv[4] === 'profile-exchange';
const profileExchange = process.argv[4] === 'profile-exchange';
// Bounds: rounds × ops per batch, and a time cap per batch whichever comes first. The data-key
// runs only feed the signing-modes table, so they get fewer rounds to keep the bench short.
// Batches run up to the time cap: measured here, the first few hundred operations after a switch
// between series (handler ↔ raw jose) run up to twice as slow for both, so 300-operation batches
// (~50 ms) measured mostly that transient and swung the ratio by ±0.15 from run to run; a warm
// container only ever runs its handler.
// BENCH_QUICK=1 (a check that the pipeline works, not a measurement): 2 rounds of shorter batches.
const QUICK = process.env.BENCH_QUICK === '1';
const ROUNDS = QUICK ? 2 : signer === 'kms' ? 5 : signer === 'kms-data-key' ? 3 : 7;
const OPS = signer === 'kms' && alg === 'ES256' ? 60 : 3000;
const BATCH_MS = QUICK ? 300 : 800;

// DynamoDB and KMS stand-ins run in their own process, like the remote services they stand for.
const stack = await spawnStandIns({ signer, alg });
const upstream = await startUpstreamIssuer({ alg: 'RS256' });
Object.assign(process.env, stack.env);
const issuer = stack.env.FEDBROKER_ISSUER!;
await tenantAdmin(stack.tableName).tenant('bench', [
  {
    kind: 'oidc',
    id: 'ci',
    issuer: upstream.issuer,
    audiences: ['fedbroker'],
    conditions: { StringLike: { sub: 'repo:acme/*' }, StringEquals: { ref: 'refs/heads/main' } },
    scopes: ['id-token:issue'],
    id_token_audiences: ['sts.amazonaws.com'],
  },
]);

type Handler = (e: APIGatewayProxyEventV2, c: Context) => Promise<APIGatewayProxyStructuredResultV2>;
const { handler } = (await import('../functions/token.ts')) as unknown as { handler: Handler };
const event = (body: string) => httpEvent('POST', '/v1/token', { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
async function invoke(e: APIGatewayProxyEventV2): Promise<string> {
  const res = await handler(e, lambdaContext());
  if (res.statusCode !== 200) throw new Error(`handler answered ${res.statusCode}: ${res.body}`);
  return (JSON.parse(res.body ?? '{}') as { access_token: string }).access_token;
}

// Distinct upstream tokens (distinct jti), cycled: the broker keeps no replay state for external
// tokens (no store read per exchange shows up in the counts), so reuse is fair.
const externals = await Promise.all(
  Array.from({ length: 64 }, () => upstream.token({ sub: 'repo:acme/app', ref: 'refs/heads/main', jti: randomUUID() })),
);
const accessToken = await invoke(event(externalForm(externals[0]!, 'bench')));
const idBody = idTokenForm(accessToken);
const firstId = await invoke(event(idBody));
if (decodeProtectedHeader(firstId).alg !== alg) throw new Error('the handler signed with another algorithm');

// The last batch's size, wall time and this process's CPU time (all threads: WebCrypto runs in
// the libuv pool), which other load on the machine disturbs less than wall time.
const lastBatch = { ops: 0, ms: 0, cpuMs: 0 };
/** Times up to OPS sequential calls (inputs built before the clock starts); wall ms per call. */
async function batch<T>(make: (i: number) => T, run: (x: T) => Promise<unknown>): Promise<number> {
  const inputs = Array.from({ length: OPS }, (_, i) => make(i));
  const start = performance.now();
  const cpu = process.cpuUsage();
  let done = 0;
  for (const input of inputs) {
    await run(input);
    done++;
    if (performance.now() - start > BATCH_MS) break;
  }
  lastBatch.ops = done;
  lastBatch.ms = performance.now() - start;
  const used = process.cpuUsage(cpu);
  lastBatch.cpuMs = (used.user + used.system) / 1000;
  return lastBatch.ms / done;
}

// Warm container: key registry, public keys, tenant view and upstream JWKS cached, JIT warm.
for (let i = 0; i < 30; i++) {
  await invoke(event(idBody));
  await invoke(event(externalForm(externals[i % externals.length]!, 'bench')));
}

if (profileOnly) {
  // Only one handler path, for --cpu-prof: about 4 s of it. The window is printed in the
  // monotonic microseconds V8 stamps profile samples with, so setup can be cut out.
  const from = Number(process.hrtime.bigint() / 1000n);
  const until = performance.now() + 4000;
  let n = 0;
  while (performance.now() < until && n < 20_000) {
    await invoke(event(profileExchange ? externalForm(externals[n % externals.length]!, 'bench') : idBody));
    n++;
  }
  await report({ profiled: n, from, to: Number(process.hrtime.bigint() / 1000n) });
  await Promise.all([stack.stop(), upstream.close()]);
  process.exit(0);
}

// Calls per warm token, counted right after warm-up (inside the 15 s tenant cache and 60 s key
// cache windows, which the totals below then cover at length).
const snapshot = async () => ({ ...(await stack.counts()), upstream: { ...upstream.hits } });
const diff = (a: Record<string, number>, b: Record<string, number>): Record<string, number> =>
  Object.fromEntries(
    Object.keys({ ...a, ...b })
      .map((k) => [k, (b[k] ?? 0) - (a[k] ?? 0)])
      .filter(([, v]) => v !== 0),
  );
async function count(n: number, make: (i: number) => APIGatewayProxyEventV2) {
  const before = await snapshot();
  for (let i = 0; i < n; i++) await invoke(make(i));
  const after = await snapshot();
  return {
    tokens: n,
    dynamo: diff(before.dynamo, after.dynamo),
    kms: diff(before.kms, after.kms),
    upstream: diff(before.upstream, after.upstream),
  };
}
const counts = {
  issue: await count(100, () => event(idBody)),
  exchange: await count(100, (i) => event(externalForm(externals[i % externals.length]!, 'bench'))),
};

// Raw jose with the same key type: the broker's own key file for the local signer, a fresh
// key of the same spec for KMS (whose private key cannot be exported).
const rawKey: CryptoKey =
  signer === 'local'
    ? ((await importJWK(
        JSON.parse(readFileSync(join(stack.env.FEDBROKER_DATA_DIR!, 'signing-key.json'), 'utf8')) as JWK,
        alg,
      )) as CryptoKey)
    : (await generateKeyPair(alg)).privateKey;
const upstreamJwks = (await (await fetch(`${upstream.issuer}/jwks`)).json()) as { keys: JWK[] };
const upstreamKey = await importJWK(upstreamJwks.keys[0]!, 'RS256');
const now = () => Math.floor(Date.now() / 1000);
const rawIdToken = () => {
  const iat = now();
  return new SignJWT({
    iss: issuer,
    sub: 'bench/ci/repo:acme/app',
    aud: 'sts.amazonaws.com',
    iat,
    nbf: iat,
    exp: iat + 900,
    jti: randomUUID(),
    tenant_id: 'bench',
    trust: 'ci',
  })
    .setProtectedHeader({ alg, kid: 'raw', typ: 'JWT' })
    .sign(rawKey);
};
const rawExchange = async (token: string) => {
  const { payload } = await jwtVerify(token, upstreamKey, { issuer: upstream.issuer, audience: 'fedbroker', algorithms: ['RS256'] });
  const iat = now();
  return new SignJWT({
    iss: issuer,
    sub: `bench/ci/${payload.sub}`,
    aud: issuer,
    client_id: 'bench/ci',
    tenant_id: 'bench',
    trust: 'ci',
    scope: 'id-token:issue',
    jti: randomUUID(),
    iat,
    exp: iat + 900,
  })
    .setProtectedHeader({ alg, kid: 'raw', typ: 'at+jwt' })
    .sign(rawKey);
};

/**
 * Interleaves the series round by round so drift (thermal, GC, neighbours) hits all alike and
 * returns medians. Store, KMS and upstream calls are accounted to the series that made them.
 */
const perSeries: Record<
  string,
  { calls: number; seconds: number; dynamo: Record<string, number>; kms: Record<string, number>; upstream: Record<string, number> }
> = {};
async function compare<K extends string>(name: string, series: Record<K, () => Promise<number>>) {
  const keys = Object.keys(series) as K[];
  const rounds = Object.fromEntries(keys.map((k) => [k, [] as number[]])) as Record<K, number[]>;
  const cpuRounds = Object.fromEntries(keys.map((k) => [k, [] as number[]])) as Record<K, number[]>;
  for (const k of keys) await series[k](); // untimed: JIT and caches warm for every series
  for (let r = 0; r < ROUNDS; r++) {
    for (const k of keys) {
      const before = await snapshot();
      const perOp = await series[k]();
      const after = await snapshot();
      rounds[k].push(perOp);
      cpuRounds[k].push(lastBatch.cpuMs / lastBatch.ops);
      const acc = (perSeries[`${name}.${k}`] ??= { calls: 0, seconds: 0, dynamo: {}, kms: {}, upstream: {} });
      acc.calls += lastBatch.ops;
      acc.seconds += lastBatch.ms / 1000;
      for (const part of ['dynamo', 'kms', 'upstream'] as const) {
        for (const [label, n] of Object.entries(diff(before[part], after[part]))) acc[part][label] = (acc[part][label] ?? 0) + n;
      }
    }
  }
  const medians = Object.fromEntries(keys.map((k) => [k, median(rounds[k])])) as Record<K, number>;
  const cpuMs = Object.fromEntries(keys.map((k) => [k, median(cpuRounds[k])])) as Record<K, number>;
  return { ...medians, cpuMs, rounds };
}

// The handler's own stages, called directly with the container's runtime (same module graph as
// the handler, so the same warm caches): subject-token verification (the token recognised,
// expiry, key and deny list checked) and minting (key lookup + signJwt + signer). What is left of
// the handler time is middy, form parsing, the tenant directory, policy checks, the audit line,
// logs, metrics and the response. The whole runtime is passed as deps, as the handler does.
const deps = { ...runtime(), issuer };
const principal = await verifyAccessToken(accessToken, deps);
const probe = new Table(stack.tableName);

const timedStart = performance.now();
const issue = await compare('issue', {
  raw: () => batch(() => undefined, rawIdToken),
  handler: () => batch(() => event(idBody), invoke),
  verify: () =>
    batch(
      () => undefined,
      () => verifyAccessToken(accessToken, deps),
    ),
  mint: () =>
    batch(
      () => undefined,
      () => mintIdToken(deps, principal, 'sts.amazonaws.com', 900),
    ),
  // One DynamoDB round trip to the stand-in, read and write, for items the handler never touches.
  dynamoGet: () =>
    batch(
      () => undefined,
      () => probe.doc.send(new GetCommand({ TableName: probe.name, Key: { pk: 'BENCH#probe', sk: 'BENCH' } })),
    ),
  dynamoPut: () =>
    batch(
      (i) => i,
      (i) => probe.doc.send(new PutCommand({ TableName: probe.name, Item: { pk: 'BENCH#probe', sk: `BENCH#${i}`, at: Date.now() } })),
    ),
});
const exchange = await compare('exchange', {
  raw: () => batch((i) => externals[i % externals.length]!, rawExchange),
  handler: () => batch((i) => event(externalForm(externals[i % externals.length]!, 'bench')), invoke),
});
const totals = {
  seconds: (performance.now() - timedStart) / 1000,
  issue: perSeries['issue.handler']!,
  exchange: perSeries['exchange.handler']!,
};

const ratio = (x: { raw: number; handler: number }) => x.handler / x.raw;
await report({ alg, signer, issue: { ...issue, ratio: ratio(issue) }, exchange: { ...exchange, ratio: ratio(exchange) }, counts, totals });
await Promise.all([stack.stop(), upstream.close()]);
process.exit(0);

// Cold start, as a child of `npm run bench`: bundles every function with esbuild using
// serverless.yml's custom.esbuild options (what serverless-esbuild does for `serverless package`),
// then, nine times per bundle (round-robin over the bundles), imports it in a fresh Node process
// and serves a first request against dynalite + the KMS stand-in started here (KMS signer, the
// deployed configuration).
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { build, type BuildOptions, type Plugin } from 'esbuild';
import { parse } from 'yaml';
import { trustAnchors } from '../lib/app/trust-anchors.ts';
import { Table } from '../lib/aws/dynamo-table.ts';
import { DynamoTrustStore } from '../lib/aws/dynamo-trust-store.ts';
import { systemClock } from '../lib/clock.ts';
import { httpEvent, lambdaContext, logsSubscriptionEvent } from '../test/support/events.ts';
import { OpensslCa } from '../test/support/openssl-ca.ts';
import { signRolesAnywhere } from '../test/support/roles-anywhere-signer.ts';
import { tenantAdmin } from '../test/support/tenants.ts';
import { startUpstreamIssuer } from '../test/support/upstream-issuer.ts';
import { externalForm, median, report, ROOT, startStack } from './support.ts';

// Nine runs: the median of nine is steadier than of five on a shared machine (import times vary ±30 ms).
// BENCH_QUICK=1 (a check that the pipeline works, not a measurement): three.
const RUNS = process.env.BENCH_QUICK === '1' ? 3 : 9;
// In the same round-robin as the functions: the baseline (bench/cold-baseline.ts: the same SDK
// clients and jose, the same first calls made raw, nothing of fedbroker), bundled with the same
// options, and an empty module, whose process wall time is Node's bare start-up.
const BASELINE = 'coldBaseline';
const BARE = 'nodeBare';
// Two more baselines, reported as context (no target): the baseline behind the fixed Lambda stack
// (bench/cold-baseline-stack.ts: @middy/core, Powertools Logger, one log line), and that one after
// a raw pkijs validation of the x509 function's certificate chain (bench/cold-baseline-x509.ts).
const STACK_BASELINE = 'coldBaselineStack';
const X509_BASELINE = 'coldBaselineX509';

interface Yml {
  custom: {
    esbuild: {
      minify: boolean;
      sourcemap: boolean;
      format: 'esm';
      target: string;
      platform: 'node';
      mainFields: string[];
      outputFileExtension: string;
      exclude: string[];
      banner: { js: string };
      plugins?: string;
    };
  };
  functions: Record<string, { handler: string }>;
}
const yml = parse(readFileSync(join(ROOT, 'serverless.yml'), 'utf8'), { logLevel: 'silent' }) as Yml;
const opts = yml.custom.esbuild;
const outdir = mkdtempSync(join(tmpdir(), 'fedbroker-bundles-'));
const entries = {
  ...Object.fromEntries(Object.entries(yml.functions).map(([name, fn]) => [name, join(ROOT, fn.handler.replace(/\.handler$/, '.ts'))])),
  [BASELINE]: join(ROOT, 'bench/cold-baseline.ts'),
  [STACK_BASELINE]: join(ROOT, 'bench/cold-baseline-stack.ts'),
  [X509_BASELINE]: join(ROOT, 'bench/cold-baseline-x509.ts'),
};
const options: BuildOptions = {
  absWorkingDir: ROOT,
  entryPoints: entries,
  outdir,
  bundle: true,
  minify: opts.minify,
  sourcemap: opts.sourcemap,
  format: opts.format,
  target: opts.target,
  platform: opts.platform,
  mainFields: opts.mainFields,
  outExtension: { '.js': opts.outputFileExtension },
  external: opts.exclude,
  banner: opts.banner,
  // Loaded as serverless-esbuild does: the file's default export.
  plugins: opts.plugins ? ((await import(join(ROOT, opts.plugins))) as { default: Plugin[] }).default : [],
  logLevel: 'error',
  metafile: true,
};
const buildStart = performance.now();
const built = await build(options);
const buildMs = performance.now() - buildStart;
writeFileSync(join(outdir, `${BARE}${opts.outputFileExtension}`), 'export const handler = async () => ({ statusCode: 200 });\n');

/** What a bundle is made of: output bytes per npm package (or fedbroker's own code). */
function composition(bundle: string) {
  const output = Object.entries(built.metafile?.outputs ?? {}).find(([path]) => path.endsWith(`/${bundle}`))?.[1];
  const bytes = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(output?.inputs ?? {})) {
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1] ?? 'fedbroker (lib/, functions/)';
    bytes.set(pkg, (bytes.get(pkg) ?? 0) + bytesInOutput);
  }
  return [...bytes.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 8)
    .map(([pkg, n]) => ({ pkg, bytes: n }));
}

// A deployment that already served traffic: registry bootstrapped, a tenant, an access token.
const stack = await startStack({ signer: 'kms', alg: 'RS256' });
const upstream = await startUpstreamIssuer();
Object.assign(process.env, stack.env);
await tenantAdmin(stack.tableName).tenant('bench', [
  {
    kind: 'oidc',
    id: 'ci',
    issuer: upstream.issuer,
    audiences: ['fedbroker'],
    conditions: { StringLike: { sub: 'repo:acme/*' } },
    scopes: ['id-token:issue', 'trust:admin', 'audit:read'],
    id_token_audiences: ['sts.amazonaws.com'],
  },
]);
// Certificates in (docs/x509.md): a CA made by openssl, its root as the tenant's trust anchor, and
// an x509 relationship, so the x509 function's first request is a real certificate session.
const ca = new OpensslCa();
const root = ca.issue({ subject: '/O=Bench/CN=Bench Root CA', ca: true, key: 'p256' });
const issuing = ca.issue({ subject: '/O=Bench/CN=Bench Issuing CA', ca: true, pathLen: 0, issuer: root, key: 'p256' });
const leaf = ca.issue({ subject: '/O=Bench/OU=Platform/CN=bench-1', issuer: issuing, key: 'p256' });
const anchorAdmin = {
  store: new DynamoTrustStore(new Table(stack.tableName)),
  clock: systemClock,
  local: true,
  cognitoIssuer: 'https://cognito-identity.amazonaws.com',
};
await trustAnchors.create(anchorAdmin, 'bench', { id: 'corp', certificates: root.certPem });
await tenantAdmin(stack.tableName).relationship('bench', {
  kind: 'x509',
  id: 'servers',
  trust_anchors: ['corp'],
  scopes: ['id-token:issue'],
  conditions: { StringEquals: { 'x509Subject/OU': 'Platform' } },
});
/** A session request signed the IAM Roles Anywhere way, with a fresh nonce (each may be used once). */
function certificateSession(): APIGatewayProxyEventV2 {
  const path = '/v1/tenants/bench/x509/sessions';
  const body = JSON.stringify({ nonce: randomUUID() });
  const headers = signRolesAnywhere({
    url: `https://localhost${path}`,
    body,
    certDer: leaf.der,
    chainDers: [issuing.der],
    keyPem: leaf.keyPem,
    serialHex: leaf.serialHex,
  });
  return httpEvent('POST', path, { headers, body, pathParameters: { tenant: 'bench' } });
}

type Handler = (e: APIGatewayProxyEventV2, c: Context) => Promise<APIGatewayProxyStructuredResultV2>;
const { handler } = (await import('../functions/token.ts')) as unknown as { handler: Handler };
const external = await upstream.token({ sub: 'repo:acme/app' });
const res = await handler(
  httpEvent('POST', '/v1/token', {
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: externalForm(external, 'bench'),
  }),
  lambdaContext(),
);
if (res.statusCode !== 200) throw new Error(`setup exchange failed: ${res.body}`);
const accessToken = (JSON.parse(res.body ?? '{}') as { access_token: string }).access_token;
const bearer = { authorization: `Bearer ${accessToken}` };

// A first request each function really serves: the fallback's is a 404 by design, the Cognito
// vending function's a refusal (the bench token lacks scope aws:cognito), the two functions that are not
// behind the HTTP API (schedule, log subscription) answer no HTTP status (0).
const form = { 'content-type': 'application/x-www-form-urlencoded' };
const json = { ...bearer, 'content-type': 'application/json' };
const nowIso = new Date().toISOString();
const auditLine = JSON.stringify({
  level: 'INFO',
  message: 'audit',
  timestamp: nowIso,
  service: 'fedbroker',
  audit: true,
  time: nowIso,
  id: `${nowIso}#0123456789ab`,
  event: 'token.exchange',
  outcome: 'success',
  tenant: 'bench',
  expires_at: Math.floor(Date.now() / 1000) + 3600,
});
/** A function's first request: an event, or one made afresh for each run (a signed, single-use request). */
const firstRequests: Record<string, { event: unknown | (() => unknown); expect: number }> = {
  discovery: { event: httpEvent('GET', '/.well-known/openid-configuration'), expect: 200 },
  jwks: { event: httpEvent('GET', '/.well-known/jwks.json'), expect: 200 },
  token: {
    event: httpEvent('POST', '/v1/token', {
      headers: form,
      body: new URLSearchParams({
        grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
        subject_token: accessToken,
        subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
        requested_token_type: 'urn:ietf:params:oauth:token-type:id_token',
        audience: 'sts.amazonaws.com',
      }).toString(),
    }),
    expect: 200,
  },
  trustRelationships: {
    event: httpEvent('GET', '/v1/tenants/bench/trust-relationships', { headers: bearer, pathParameters: { tenant: 'bench' } }),
    expect: 200,
  },
  trustRelationship: {
    event: httpEvent('GET', '/v1/tenants/bench/trust-relationships/ci', { headers: bearer, pathParameters: { tenant: 'bench', id: 'ci' } }),
    expect: 200,
  },
  trustRelationshipsExplain: {
    event: httpEvent('POST', '/v1/tenants/bench/trust-relationships:explain', {
      headers: { ...bearer, 'content-type': 'application/json' },
      body: JSON.stringify({ token: external }),
      pathParameters: { tenant: 'bench' },
    }),
    expect: 200,
  },
  identityPools: {
    event: httpEvent('GET', '/v1/tenants/bench/cognito-identity-pools', { headers: bearer, pathParameters: { tenant: 'bench' } }),
    expect: 200,
  },
  identityPool: {
    event: httpEvent('GET', '/v1/tenants/bench/cognito-identity-pools/us-east-1:00000000-0000-4000-8000-000000000000', {
      headers: bearer,
      pathParameters: { tenant: 'bench', id: 'us-east-1:00000000-0000-4000-8000-000000000000' },
    }),
    expect: 404,
  },
  trustAnchors: {
    event: httpEvent('GET', '/v1/tenants/bench/trust-anchors', { headers: bearer, pathParameters: { tenant: 'bench' } }),
    expect: 200,
  },
  trustAnchor: {
    event: httpEvent('GET', '/v1/tenants/bench/trust-anchors/corp', { headers: bearer, pathParameters: { tenant: 'bench', id: 'corp' } }),
    expect: 200,
  },
  x509: { event: certificateSession, expect: 200 },
  cognitoIdentityToken: {
    event: httpEvent('POST', '/v1/aws/cognito-identity-token', { headers: json, body: JSON.stringify({ identity_pool: 'none' }) }),
    expect: 403,
  },
  revocations: {
    event: httpEvent('POST', '/v1/tenants/bench/revocations', {
      headers: json,
      body: JSON.stringify({ jti: randomUUID(), exp: Math.floor(Date.now() / 1000) + 600 }),
      pathParameters: { tenant: 'bench' },
    }),
    expect: 200,
  },
  audit: { event: httpEvent('GET', '/v1/tenants/bench/audit', { headers: bearer, pathParameters: { tenant: 'bench' } }), expect: 200 },
  rotateKeys: { event: { source: 'aws.events', 'detail-type': 'Scheduled Event' }, expect: 0 },
  auditIngest: { event: logsSubscriptionEvent([auditLine]), expect: 0 },
  fallback: { event: httpEvent('GET', '/no/such/route'), expect: 404 },
};
// Every function serverless.yml deploys is measured: a function added without a first request here
// stops the bench rather than leaving the table (and its "every function" verdict) short.
const unmeasured = Object.keys(yml.functions).filter((name) => !(name in firstRequests));
if (unmeasured.length) throw new Error(`bench/cold.ts: no first request for ${unmeasured.join(', ')}`);
const runList: Record<string, { event: unknown | (() => unknown); expect: number }> = {
  ...firstRequests,
  [BASELINE]: { event: {}, expect: 200 },
  [STACK_BASELINE]: { event: {}, expect: 200 },
  // The x509 function's chain and anchor, and the calls its first request made (counted this round).
  [X509_BASELINE]: {
    event: () => ({
      chain: [leaf.der, issuing.der].map((d) => Buffer.from(d).toString('base64')),
      anchor: Buffer.from(root.der).toString('base64'),
      calls: runsByFn.get('x509')?.calls,
    }),
    expect: 200,
  },
  [BARE]: { event: {}, expect: 200 },
};

function coldRun(
  bundle: string,
  event: unknown,
): Promise<{ importMs: number; firstMs: number; status: number; wallMs: number; log: string }> {
  return new Promise((done, fail) => {
    const start = performance.now();
    const child = spawn(process.execPath, [join(ROOT, 'bench/cold-child.ts'), bundle], {
      env: { PATH: process.env.PATH ?? '', ...stack.env, BENCH_EVENT: JSON.stringify(event) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      const wallMs = performance.now() - start;
      const line = out
        .split('\n')
        .findLast((l) => l.startsWith('@@bench '))
        ?.slice('@@bench '.length);
      if (code !== 0 || !line) return fail(new Error(`cold run of ${bundle} failed (${code}): ${err.slice(-2000)}`));
      // The handler's own warnings and errors (Powertools JSON lines), to explain an unexpected status.
      const log = `${out}\n${err}`
        .split('\n')
        .filter((l) => /"level":"(WARN|ERROR)"/.test(l))
        .join('\n')
        .slice(0, 1000);
      done({ ...(JSON.parse(line) as { importMs: number; firstMs: number; status: number }), wallMs, log });
    });
  });
}

const prefixed = (service: string, counts: Record<string, number>) =>
  Object.fromEntries(Object.entries(counts).map(([k, v]) => [`${service} ${k}`, v]));
// Round-robin over the functions, one fresh process each per round, so a noisy stretch on a
// shared machine slows every function's runs a little instead of all nine runs of one function
// (which the slowest-median row would then report as that function's cold start).
const runsByFn = new Map<string, { runs: Awaited<ReturnType<typeof coldRun>>[]; calls: Record<string, number> }>();
/** Per function, the baseline run right after it with the same first calls (bench/cold-baseline.ts `event.calls`). */
const matchedByFn = new Map<string, Awaited<ReturnType<typeof coldRun>>[]>();
const own = (fn: string) => ![BASELINE, STACK_BASELINE, X509_BASELINE, BARE].includes(fn);
for (let i = 0; i < RUNS; i++) {
  for (const [name, { event }] of Object.entries(runList)) {
    const bundle = join(outdir, `${name}${opts.outputFileExtension}`);
    const entry = runsByFn.get(name) ?? { runs: [], calls: {} };
    runsByFn.set(name, entry);
    // What a cold container's first request asks of DynamoDB and KMS (the same every run).
    const before = { ...prefixed('DynamoDB', stack.dynamoCalls), ...prefixed('KMS', stack.kms.calls) };
    entry.runs.push(await coldRun(bundle, typeof event === 'function' ? event() : event));
    const after = { ...prefixed('DynamoDB', stack.dynamoCalls), ...prefixed('KMS', stack.kms.calls) };
    entry.calls = Object.fromEntries(
      Object.keys(after)
        .map((k) => [k, (after[k] ?? 0) - (before[k] ?? 0)])
        .filter(([, n]) => n !== 0),
    );
    // Right after it, the baseline making exactly this function's first calls, raw.
    if (own(name)) {
      const matched = matchedByFn.get(name) ?? [];
      matchedByFn.set(name, matched);
      matched.push(await coldRun(join(outdir, `${BASELINE}${opts.outputFileExtension}`), { calls: entry.calls }));
    }
  }
}
const baselineRuns = runsByFn.get(BASELINE)!.runs;
const stackRuns = runsByFn.get(STACK_BASELINE)!.runs;
const x509Runs = runsByFn.get(X509_BASELINE)!.runs;
const results = Object.entries(runList).map(([name, { expect }]) => {
  const { runs, calls } = runsByFn.get(name)!;
  const statuses = [...new Set(runs.map((r) => r.status))];
  return {
    fn: name,
    bytes: statSync(join(outdir, `${name}${opts.outputFileExtension}`)).size,
    importMs: median(runs.map((r) => r.importMs)),
    firstMs: median(runs.map((r) => r.firstMs)),
    wallMs: median(runs.map((r) => r.wallMs)),
    status: statuses.join('/'),
    expected: expect,
    ok: statuses.length === 1 && statuses[0] === expect,
    calls,
    // Median over rounds of this function's import + first response / the baseline's in the same round.
    ratio: median(runs.map((r, i) => r.firstMs / baselineRuns[i]!.firstMs)),
    // The same against the fixed-stack baseline, and (x509 only) the one that also validates its chain.
    stackRatio: median(runs.map((r, i) => r.firstMs / stackRuns[i]!.firstMs)),
    ...(name === 'x509' ? { x509Ratio: median(runs.map((r, i) => r.firstMs / x509Runs[i]!.firstMs)) } : {}),
    ...(matchedByFn.has(name)
      ? {
          // The same, against the baseline that made this function's own first calls right after it.
          matchedMs: median(matchedByFn.get(name)!.map((r) => r.firstMs)),
          matchedRatio: median(runs.map((r, i) => r.firstMs / matchedByFn.get(name)![i]!.firstMs)),
        }
      : {}),
    ...(runs.some((r) => r.status !== expect) ? { log: runs.find((r) => r.status !== expect)?.log } : {}),
  };
});

await report({
  buildMs,
  runs: RUNS,
  esbuild: opts,
  bundles: results.filter((r) => own(r.fn)),
  baseline: results.find((r) => r.fn === BASELINE)!,
  stackBaseline: results.find((r) => r.fn === STACK_BASELINE)!,
  x509Baseline: results.find((r) => r.fn === X509_BASELINE)!,
  bare: results.find((r) => r.fn === BARE)!,
  tokenComposition: composition(`token${opts.outputFileExtension}`),
});
await Promise.all([stack.close(), upstream.close()]);
process.exit(0);

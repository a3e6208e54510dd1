// Shared pieces of `npm run bench` and `npm run load`: the stand-ins, token requests, the load
// generator and the machine. test/support/broker.ts is not reused: it imports vitest's `vi`,
// which only works inside the vitest runner. Everything binds to 127.0.0.1; every wait is bounded.
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { request as httpRequest, Agent } from 'node:http';
import { cpus, platform, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import autocannon from 'autocannon';
import { TOKEN_EXCHANGE_GRANT } from '../lib/app/exchange.ts';
import { startDynalite } from '../lib/local/dynalite.ts';
import { createTableFromServerlessYml } from '../lib/local/table.ts';
import { TOKEN_TYPE } from '../lib/tokens/types.ts';
import { listen, readBody } from '../test/support/http-server.ts';
import { startKmsStandIn, type KmsStandIn } from '../test/support/kms-stand-in.ts';
import { ROOT, spawnServer } from './processes.ts';

export { TOKEN_TYPE };
// One import site for the bench scripts.
export * from './processes.ts';

export type Alg = 'RS256' | 'ES256';
/** Signing modes the bench runs: file signer, KMS asymmetric Sign per token, KMS data-key pair decrypted once. */
export type SignerMode = 'local' | 'kms' | 'kms-data-key';

/** Form body of an RFC 8693 request. */
export function exchangeForm(params: Record<string, string>): string {
  return new URLSearchParams({ grant_type: TOKEN_EXCHANGE_GRANT, ...params }).toString();
}
export const idTokenForm = (accessToken: string) =>
  exchangeForm({
    subject_token: accessToken,
    subject_token_type: TOKEN_TYPE.accessToken,
    requested_token_type: TOKEN_TYPE.idToken,
    audience: 'sts.amazonaws.com',
  });
export const externalForm = (token: string, tenant: string) =>
  exchangeForm({ subject_token: token, subject_token_type: TOKEN_TYPE.idToken, tenant });

/** POSTs a token request; throws on anything but 200 so a broken setup never gets measured. */
export async function postToken(base: string, body: string): Promise<string> {
  const res = await fetch(`${base}/v1/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body,
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`token endpoint answered ${res.status}: ${text}`);
  return (JSON.parse(text) as { access_token: string }).access_token;
}

/** A dev-issuer token (the issuer `npm start` seeds tenant `dev` with). */
export async function devToken(devIssuer: string, sub = 'dev:bench'): Promise<string> {
  const res = await fetch(`${devIssuer}/token`, { method: 'POST', body: `sub=${sub}`, signal: AbortSignal.timeout(10_000) });
  return (await res.text()).trim();
}

/**
 * A DynamoDB endpoint that forwards to dynalite and counts requests per operation and item kind
 * (`X-Amz-Target: DynamoDB_20120810.<Operation>`, and the partition key's prefix, e.g.
 * `GetItem KEY`, `Query TENANT`), so store calls are counted and named, not guessed.
 */
export async function countingProxy(target: string) {
  const counts: Record<string, number> = {};
  const agent = new Agent({ keepAlive: true });
  const upstream = new URL(target);
  const server = await listen(async (req, res) => {
    const body = await readBody(req);
    const op =
      String(req.headers['x-amz-target'] ?? '?')
        .split('.')
        .pop() ?? '?';
    const label = `${op} ${itemKind(body)}`.trim();
    counts[label] = (counts[label] ?? 0) + 1;
    const out = httpRequest(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers, agent },
      (up) => {
        res.writeHead(up.statusCode ?? 500, up.headers);
        up.pipe(res);
      },
    );
    out.on('error', () => res.writeHead(502).end());
    out.end(body);
  });
  const close = async () => {
    agent.destroy();
    return server.close();
  };
  return { url: server.url, counts, close };
}

/** The prefix of the partition key a request addresses (`TENANT#acme` → `TENANT`), or ''. */
function itemKind(body: string): string {
  try {
    const req = JSON.parse(body) as {
      Key?: { pk?: { S?: string } };
      Item?: { pk?: { S?: string } };
      ExpressionAttributeValues?: Record<string, { S?: string }>;
    };
    const pk =
      req.Key?.pk?.S ?? req.Item?.pk?.S ?? Object.values(req.ExpressionAttributeValues ?? {}).find((v) => typeof v.S === 'string')?.S;
    return pk ? (pk.split('#')[0] ?? '') : '';
  } catch {
    return '';
  }
}

const READS = new Set(['GetItem', 'Query', 'Scan', 'BatchGetItem', 'TransactGetItems']);
/** Splits labelled counts into reads and everything else (writes, table management). */
export function readsAndWrites(counts: Record<string, number>) {
  const reads: Record<string, number> = {};
  const writes: Record<string, number> = {};
  for (const [label, n] of Object.entries(counts)) (READS.has(label.split(' ')[0] ?? '') ? reads : writes)[label] = n;
  return { reads, writes };
}

export interface Stack {
  env: Record<string, string>;
  kms: KmsStandIn;
  /** DynamoDB requests per operation, seen by the counting proxy in front of dynalite. */
  dynamoCalls: Record<string, number>;
  tableName: string;
  close(): Promise<void>;
}

/** dynalite (behind a counting proxy) + the KMS stand-in + the table, and the env that points at them. */
export async function startStack(options: { signer: SignerMode; alg: Alg }): Promise<Stack> {
  const [dynamodb, kms] = await Promise.all([startDynalite(), startKmsStandIn()]);
  const proxy = await countingProxy(dynamodb.endpoint);
  const tableName = `fedbroker-bench-${randomUUID().slice(0, 8)}`;
  const credentials = { accessKeyId: 'bench', secretAccessKey: 'bench' };
  await createTableFromServerlessYml(
    new DynamoDBClient({ region: 'us-east-1', endpoint: dynamodb.endpoint, credentials }),
    tableName,
    join(ROOT, 'serverless.yml'),
  );
  // kms-data-key: the symmetric wrapping key under which the signer generates its key pairs.
  const key =
    options.signer === 'local'
      ? undefined
      : await kms.createKey(
          options.signer === 'kms-data-key' ? 'SYMMETRIC_DEFAULT' : options.alg === 'ES256' ? 'ECC_NIST_P256' : 'RSA_2048',
        );
  const env: Record<string, string> = {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    AWS_ENDPOINT_URL_DYNAMODB: proxy.url,
    AWS_ENDPOINT_URL_KMS: kms.url,
    FEDBROKER_TABLE: tableName,
    FEDBROKER_ISSUER: 'https://issuer.fedbroker.bench',
    FEDBROKER_SIGNING_ALG: options.alg,
    // Local mode for both signers: the upstream test issuers live on http://127.0.0.1.
    FEDBROKER_LOCAL: 'true',
    ...(options.signer === 'local'
      ? { FEDBROKER_SIGNER: 'local', FEDBROKER_DATA_DIR: mkdtempSync(join(tmpdir(), 'fedbroker-bench-')) }
      : options.signer === 'kms-data-key'
        ? { FEDBROKER_SIGNER: 'kms-data-key', FEDBROKER_KMS_WRAPPING_KEY_ID: key?.Arn ?? '' }
        : { FEDBROKER_SIGNER: 'kms', FEDBROKER_KMS_KEY_ID: key?.Arn ?? '' }),
  };
  return {
    env,
    kms,
    dynamoCalls: proxy.counts,
    tableName,
    close: async () => {
      await proxy.close();
      await Promise.all([dynamodb.close(), kms.close()]);
    },
  };
}

export interface StandIns {
  env: Record<string, string>;
  tableName: string;
  devIssuer: string;
  /** Calls the stand-ins have received so far: DynamoDB per operation and item kind, KMS per operation. */
  counts(): Promise<{ dynamo: Record<string, number>; kms: Record<string, number> }>;
  stop(): Promise<void>;
}

/** Starts bench/stand-ins.ts (dynalite + counting proxy + KMS stand-in [+ dev issuer]) in its own process. */
export async function spawnStandIns(options: { signer: SignerMode; alg: Alg; dev?: boolean }): Promise<StandIns> {
  const child = await spawnServer<{ env: Record<string, string>; tableName: string; control: string; devIssuer?: string }>(
    'bench/stand-ins.ts',
    [options.signer, options.alg, ...(options.dev ? ['dev'] : [])],
  );
  return {
    env: child.info.env,
    tableName: child.info.tableName,
    devIssuer: child.info.devIssuer ?? '',
    counts: async () =>
      (await fetch(`${child.info.control}/counts`, { signal: AbortSignal.timeout(5000) })).json() as Promise<{
        dynamo: Record<string, number>;
        kms: Record<string, number>;
      }>,
    stop: child.stop,
  };
}

/**
 * fedbroker's handlers in this process behind lib/local/http-api.ts (what `npm start` serves them
 * with), configured like `npm start`: file signer, dynalite, the dev issuer and the seeded `dev`
 * tenant (those in a child process, so that this process's heap is the handlers' and the front's).
 */
export async function startInProcessBroker(alg: Alg = 'RS256') {
  const standIns = await spawnStandIns({ signer: 'local', alg, dev: true });
  // Before the handlers are imported: the runtime reads process.env on first use. RSA in the
  // thread pool, as `npm start` signs: one process serving concurrent requests.
  Object.assign(process.env, standIns.env, { FEDBROKER_SIGN_OFFLOAD: 'true' });
  const { startHttpApi } = await import('../lib/local/http-api.ts');
  const { routesFromServerlessYml } = await import('../lib/local/http-api-routes.ts');
  const api = await startHttpApi({ routes: routesFromServerlessYml(join(ROOT, 'serverless.yml')), root: ROOT });
  return {
    url: api.url,
    devIssuer: standIns.devIssuer,
    close: async () => {
      await api.close();
      await standIns.stop();
    },
  };
}

export interface LoadResult {
  rps: number;
  total: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** Responses per HTTP status. */
  statusCodes: Record<string, number>;
  seconds: number;
}

/** One bounded autocannon run; `requests` are cycled per connection. */
export async function load(options: {
  url: string;
  connections: number;
  seconds: number;
  requests: { method: 'POST' | 'GET'; path: string; headers?: Record<string, string>; body?: string }[];
}): Promise<LoadResult> {
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.seconds,
    requests: options.requests,
    timeout: 10,
  });
  // Completed requests over the measured duration: autocannon's per-second average drops partial seconds.
  return {
    rps: result.requests.total / result.duration,
    total: result.requests.total,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes: Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, { count }]) => [code, count])),
    seconds: result.duration,
  };
}

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/** Share of the whole machine's CPU time spent idle over `ms`: other people's work shows up here. */
export async function machineIdle(ms = 1000): Promise<number> {
  const sum = () =>
    cpus().reduce((acc, { times: t }) => ({ idle: acc.idle + t.idle, total: acc.total + t.idle + t.user + t.nice + t.sys + t.irq }), {
      idle: 0,
      total: 0,
    });
  const a = sum();
  await new Promise((r) => setTimeout(r, ms));
  const b = sum();
  return (b.idle - a.idle) / (b.total - a.total || 1);
}

/**
 * Waits for a quiet machine (idle ≥ `threshold` over 1 s), at most `maxMs`; returns the idle
 * share last seen, which the report prints next to the section, so contention is visible.
 */
export async function waitForQuiet(maxMs = 10_000, threshold = 0.85): Promise<number> {
  const deadline = Date.now() + maxMs;
  let idle = await machineIdle();
  while (idle < threshold && Date.now() < deadline) idle = await machineIdle();
  return idle;
}

export function machine() {
  const cpu = cpus();
  return {
    cpu: cpu[0]?.model ?? 'unknown',
    cores: cpu.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    os: `${platform()} ${release()}`,
    date: new Date().toISOString(),
  };
}

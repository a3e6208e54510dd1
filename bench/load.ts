// `npm run load`: sustained mixed traffic, alternating on every connection an exchange (external
// dev-issuer token → access token) and an ID token issuance (access token → ID token for STS).
//  A. against `npm start` (scripts/start-local.ts, spawned): throughput, latency, non-2xx.
//  B. against the same handlers in this process behind the same HTTP front (lib/local/http-api.ts),
//     to read this process's heap after forced GC before and after the run (the spawned `npm start`
//     is out of reach). The load generator always runs in a child process.
// LOAD_SECONDS (default 30) and LOAD_CONNECTIONS (default 50) size both runs. Exits 1 on any
// failed request.
import { closeSync, openSync, writeSync } from 'node:fs';
import { loadavg } from 'node:os';
import { machineLine, table, verdict, writeSection } from './report.ts';
import {
  codeState,
  devToken,
  externalForm,
  idTokenForm,
  machine,
  postToken,
  processCpu,
  runJson,
  spawnLocalRun,
  startInProcessBroker,
  type LoadResult,
} from './support.ts';

const bounded = (name: string, fallback: number, max: number) => {
  const v = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(v) || v < 1 || v > max) throw new Error(`${name} must be a whole number from 1 to ${max}`);
  return v;
};
// Upper bounds keep the tokens valid for the whole run (dev token 10 min, access token 15 min).
const SECONDS = bounded('LOAD_SECONDS', 30, 300);
const CONNECTIONS = bounded('LOAD_CONNECTIONS', 50, 1000);
const WARM_SECONDS = 3;
const HEAP_TARGET_MB = 10;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run through `npm run load` (node --expose-gc)');

const log = (s: string) => process.stderr.write(`[load] ${s}\n`);
const headers = { 'content-type': 'application/x-www-form-urlencoded' };

/** The alternating pair of requests, with real tokens fetched (and checked) first. */
async function mixedRequests(url: string, devIssuer: string) {
  const external = await devToken(devIssuer, 'dev:load');
  const access = await postToken(url, externalForm(external, 'dev'));
  await postToken(url, idTokenForm(access));
  return [
    { method: 'POST' as const, path: '/v1/token', headers, body: externalForm(external, 'dev') },
    { method: 'POST' as const, path: '/v1/token', headers, body: idTokenForm(access) },
  ];
}
const generate = (url: string, requests: Awaited<ReturnType<typeof mixedRequests>>, seconds: number) =>
  runJson<LoadResult>('bench/load-client.ts', [], {
    env: { BENCH_LOAD: JSON.stringify({ url, connections: CONNECTIONS, seconds, requests }) },
    timeoutMs: (seconds + 60) * 1000,
  });

async function settledHeapMb(): Promise<number> {
  // Several passes with turns of the event loop in between, so finalizers and weak caches settle.
  for (let i = 0; i < 4; i++) {
    gc!();
    await new Promise((r) => setTimeout(r, 50));
  }
  return process.memoryUsage().heapUsed / 2 ** 20;
}

/** Samples the thread count of a process tree once a second while `work` runs; the peak. */
async function peakThreads<T>(pid: number, work: () => Promise<T>): Promise<{ result: T; baseline: number; peak: number }> {
  const baseline = processCpu(pid)?.threads ?? 0;
  let peak = baseline;
  const timer = setInterval(() => (peak = Math.max(peak, processCpu(pid)?.threads ?? 0)), 1000);
  try {
    return { result: await work(), baseline, peak };
  } finally {
    clearInterval(timer);
  }
}

log(`A: npm start, ${CONNECTIONS} connections × ${SECONDS} s`);
const run = await spawnLocalRun();
let localRun: LoadResult;
let threads: { baseline: number; peak: number };
try {
  const requests = await mixedRequests(run.url, run.devIssuer);
  // The thread count of its process, from before the warm-up.
  const sampled = await peakThreads(run.pid, async () => {
    await generate(run.url, requests, WARM_SECONDS);
    return generate(run.url, requests, SECONDS);
  });
  localRun = sampled.result;
  threads = sampled;
} finally {
  await run.stop();
}

log(`B: handlers in this process behind lib/local/http-api.ts, ${CONNECTIONS} connections × ${SECONDS} s, heap sampled after forced GC`);
const broker = await startInProcessBroker('RS256');
let inProcess: LoadResult;
let heap: { before: number; after: number; peak: number };
// The handlers' stdout (audit log lines, CloudWatch EMF metrics) goes to /dev/null, written
// synchronously like a pipe write, and is counted: this script's own output is the table.
const devNull = openSync('/dev/null', 'w');
const stdoutWrite = process.stdout.write.bind(process.stdout);
let logBytes = 0;
process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
  logBytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
  if (typeof chunk === 'string') writeSync(devNull, chunk);
  else writeSync(devNull, chunk);
  const done = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
  done?.();
  return true;
}) as typeof process.stdout.write;
try {
  const requests = await mixedRequests(broker.url, broker.devIssuer);
  await generate(broker.url, requests, WARM_SECONDS);
  const before = await settledHeapMb();
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed / 2 ** 20)), 250);
  logBytes = 0;
  inProcess = await generate(broker.url, requests, SECONDS).finally(() => clearInterval(sampler));
  heap = { before, after: await settledHeapMb(), peak };
} finally {
  process.stdout.write = stdoutWrite;
  closeSync(devNull);
  await broker.close();
}

const growth = heap.after - heap.before;
// autocannon counts a timeout as an error too.
const failed = (r: LoadResult) => r.non2xx + r.errors;
const statuses = (r: LoadResult) =>
  Object.entries(r.statusCodes)
    .map(([code, n]) => `${n} × ${code}`)
    .join(', ');
const row = (name: string, r: LoadResult, heapCells: string[]) => [
  name,
  r.total,
  `${r.rps.toFixed(0)} req/s`,
  `${r.p50} ms`,
  `${r.p99} ms`,
  statuses(r),
  r.non2xx,
  `${r.errors} (${r.timeouts} timeouts)`,
  verdict(failed(r) === 0),
  ...heapCells,
];
const summary = table(
  [
    'target',
    'responses',
    'throughput',
    'p50',
    'p99',
    'statuses',
    'non-2xx',
    'errors',
    'no failures',
    'heap after GC: before → after (growth)',
    `growth < ${HEAP_TARGET_MB} MB`,
  ],
  [
    row('`npm start`, spawned', localRun, ['not measured (another process)', '—']),
    row('same handlers and HTTP front in this process', inProcess, [
      `${heap.before.toFixed(1)} → ${heap.after.toFixed(1)} MB (${growth >= 0 ? '+' : ''}${growth.toFixed(1)} MB; peak without GC ` +
        `${heap.peak.toFixed(0)} MB)`,
      verdict(growth < HEAP_TARGET_MB),
    ]),
  ],
);
const setupNotes = [
  `${CONNECTIONS} connections × ${SECONDS} s per target (after a ${WARM_SECONDS} s warm-up), each connection alternating an exchange`,
  `(dev-issuer ES256 token → access token) and an RS256 ID token issuance from an access token; file signer, dynalite.`,
  `The load generator (autocannon) runs in a child process.`,
].join(' ');
const threadNotes = [
  `Threads of the \`npm start\` process (the handlers, the HTTP front, dynalite and the dev issuer; Node's own threads and libuv's pool):`,
  `${threads.baseline} before the warm-up, ${threads.peak} at the peak. A 500 \`{"message":"Internal Server Error"}\` is what the HTTP`,
  `front answers, as API Gateway does, for a function that failed or outlived its 10 s timeout (serverless.yml).`,
].join(' ');
const heapNotes = [
  `Heap is this process's \`heapUsed\` after repeated \`global.gc()\`, before and after the measured run (after the warm-up); dynalite and`,
  `the dev issuer run in a child process. During that run the handlers wrote ${(logBytes / 2 ** 20).toFixed(1)} MB to stdout`,
  `(${Math.round(logBytes / Math.max(1, inProcess.total))} bytes per request: audit log lines and EMF metrics), sent to /dev/null here.`,
].join(' ');
const m = machine();
writeSection(
  'load',
  `## npm run load

${machineLine(
  m,
  `Code: ${codeState()}. Load average at the end: ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' / ')}.`,
)}

${setupNotes}

${summary}

${threadNotes}

${heapNotes}
`,
);
process.stdout.write(`${summary}\n`);
log('wrote bench/RESULTS.md');
if (failed(localRun) + failed(inProcess) > 0) {
  log('requests failed');
  process.exit(1);
}
process.exit(0);

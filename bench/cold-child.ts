// A fresh Node process standing in for a Lambda cold start: imports one bundle and serves one
// event, timing both from the first line of this script. Nothing else is imported, so the clock
// sees only the bundle's own module evaluation and first-request work.
//   BENCH_EVENT='<json>' node bench/cold-child.ts <bundle.mjs>
import { pathToFileURL } from 'node:url';

const event = JSON.parse(process.env.BENCH_EVENT ?? '{}') as Record<string, unknown>;
const context = { awsRequestId: 'cold', functionName: 'cold', getRemainingTimeInMillis: () => 10_000 };
const t0 = performance.now();
const mod = (await import(pathToFileURL(process.argv[2] ?? '').href)) as {
  handler: (e: unknown, c: unknown) => Promise<{ statusCode?: number }>;
};
const imported = performance.now();
const res = await mod.handler(event, context);
const served = performance.now();
// Prefixed like support.ts `report`: handlers write JSON lines (logs, EMF metrics) to stdout too.
console.log(`@@bench ${JSON.stringify({ importMs: imported - t0, firstMs: served - t0, status: res.statusCode ?? 0 })}`);
// The SDK's keep-alive sockets would otherwise keep the process alive for a while.
process.exit(0);

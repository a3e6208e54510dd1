// The load generator of `npm run load`, in its own process so that its allocations never count
// as the broker's heap growth. Reads its options as JSON from BENCH_LOAD; prints the result.
import { load, report } from './support.ts';

const options = JSON.parse(process.env.BENCH_LOAD ?? '{}') as Parameters<typeof load>[0];
await report(await load(options));
process.exit(0);

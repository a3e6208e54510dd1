// The load generator of `npm run load` and `npm run bench`, in its own process so that its
// allocations never count as the broker's heap growth and its CPU never competes inside the
// bench's main process. Reads its options as JSON from BENCH_LOAD; prints the result, with the
// CPU seconds this process used during the run (user + system, all threads).
import { load, report } from './support.ts';

const options = JSON.parse(process.env.BENCH_LOAD ?? '{}') as Parameters<typeof load>[0];
const cpu = process.cpuUsage();
const result = await load(options);
const used = process.cpuUsage(cpu);
await report({ ...result, clientCpuSeconds: (used.user + used.system) / 1e6 });
process.exit(0);

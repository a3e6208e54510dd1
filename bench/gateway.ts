// fedbroker's handlers behind a plain node:http server (test/support/gateway.ts), without
// serverless-offline's Lambda emulation, in its own process so that the load generator does not
// share its event loop. Prints one JSON line; exits on SIGTERM or after 10 minutes.
import { report, startInProcessBroker } from './support.ts';

const MAX_LIFETIME_MS = 10 * 60_000;
const broker = await startInProcessBroker('RS256');
const stop = async () => {
  await broker.close();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
setTimeout(() => void stop(), MAX_LIFETIME_MS);
await report({ url: broker.url, devIssuer: broker.devIssuer });

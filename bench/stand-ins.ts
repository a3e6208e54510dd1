// The services fedbroker calls, in their own process as they would be on their own hosts:
// dynalite behind the counting proxy, the KMS stand-in, and (with `dev`) the dev issuer with the
// `dev` tenant seeded as scripts/start-local.ts seeds it. Their CPU then never shows up as the
// handler's. Prints one JSON line (env, control URL); GET <control>/counts returns the calls
// counted so far. Exits on SIGTERM or after 10 minutes.
//   node bench/stand-ins.ts <local|kms|kms-data-key> <RS256|ES256> [dev]
import { Table } from '../lib/aws/dynamo-table.ts';
import { DynamoTrustStore } from '../lib/aws/dynamo-trust-store.ts';
import { startDevIssuer } from '../lib/local/dev-issuer.ts';
import { seedDevTenant } from '../lib/local/seed.ts';
import { freePort } from '../test/support/free-port.ts';
import { listen } from '../test/support/http-server.ts';
import { report, startStack, type Alg, type SignerMode } from './support.ts';

const MAX_LIFETIME_MS = 10 * 60_000;
const signer = (process.argv[2] ?? 'local') as SignerMode;
const alg = (process.argv[3] ?? 'RS256') as Alg;
const stack = await startStack({ signer, alg });
let devIssuer: Awaited<ReturnType<typeof startDevIssuer>> | undefined;
if (process.argv[4] === 'dev') {
  devIssuer = await startDevIssuer(await freePort());
  Object.assign(process.env, stack.env);
  await seedDevTenant(new DynamoTrustStore(new Table(stack.tableName)), devIssuer.issuer, 'https://cognito-identity.amazonaws.com');
}
const control = await listen((req, res) => {
  if (req.url !== '/counts') return void res.writeHead(404).end();
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ dynamo: stack.dynamoCalls, kms: stack.kms.calls }));
});
const stop = async () => {
  await Promise.all([control.close(), devIssuer?.close()]);
  await stack.close();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
setTimeout(() => void stop(), MAX_LIFETIME_MS);
await report({ env: stack.env, tableName: stack.tableName, control: control.url, devIssuer: devIssuer?.issuer });

// `npm start`: the whole broker in one process, on embedded defaults. dynalite (data under
// .fedbroker/) stands in for DynamoDB, a key file for KMS, JSON-lines files (.fedbroker/audit/)
// for the audit trail's table copy, and lib/local/http-api.ts for API Gateway: the routes
// declared in serverless.yml, served by the same handlers Lambda runs.
// dynalite shares the handlers' event loop: measured with `npm run bench`'s HTTP load, that is
// faster than a child process (the warm token paths make few DynamoDB calls, and a child adds a
// cross-process hop to each), and it starts quicker.
import { resolve } from 'node:path';
import { COGNITO_ISSUER_DEFAULT } from '../lib/config.ts';
import { startDevIssuer } from '../lib/local/dev-issuer.ts';
import { startDynalite } from '../lib/local/dynalite.ts';
import { keepLocalDataPrivate } from '../lib/local/private-data-dir.ts';
import type { HttpApi } from '../lib/local/http-api.ts';
import { removeLocalRun, writeLocalRun } from '../lib/local/run-file.ts';

const port = Number(process.env.PORT ?? process.env.FEDBROKER_PORT ?? 8787);
const dataDir = resolve(process.env.FEDBROKER_DATA_DIR ?? '.fedbroker');
const issuer = process.env.FEDBROKER_ISSUER ?? `http://localhost:${port}`;
const tableName = 'fedbroker-local';
const region = 'us-east-1';
const root = resolve(import.meta.dirname, '..');
// Where the API answers, for the CLI: the issuer may be a public name (a tunnel) for the same port.
const endpoint = `http://localhost:${port}`;

// The handlers' environment, set before any handler or lib module is imported (below, with
// import()): lib/handlers/runtime.ts and the loggers read process.env when they are first loaded or used.
Object.assign(process.env, {
  AWS_REGION: region,
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
  FEDBROKER_LOCAL: 'true',
  FEDBROKER_SIGNER: 'local',
  FEDBROKER_ISSUER: issuer,
  FEDBROKER_TABLE: tableName,
  FEDBROKER_DATA_DIR: dataDir,
  // No CloudWatch Logs subscription here: this process copies its audit lines, in the background,
  // to JSON-lines files under the data folder (lib/local/file-audit-log.ts), which the audit API
  // reads. Not to dynalite (`inline`): its ~150 µs of CPU per item was a third of a request's CPU.
  FEDBROKER_AUDIT_TABLE_WRITE: process.env.FEDBROKER_AUDIT_TABLE_WRITE ?? 'file',
  // One process serving concurrent requests (unlike a Lambda execution environment): signatures
  // go to the thread pool so the event loop keeps serving while another core signs.
  FEDBROKER_SIGN_OFFLOAD: process.env.FEDBROKER_SIGN_OFFLOAD ?? 'true',
  POWERTOOLS_SERVICE_NAME: 'fedbroker',
  POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
});

type Closable = { close(): Promise<void> };
let db: (Closable & { endpoint: string }) | undefined;
let devIssuer: (Closable & { issuer: string }) | undefined;
let api: HttpApi | undefined;
let stopping = false;
const stop = async (code = 0) => {
  if (stopping) return;
  stopping = true;
  removeLocalRun(dataDir);
  // The HTTP front first, then the audit lines still waiting for their background copy
  // (lib/audit/inline-projection.ts) go to their files (or to dynalite, before it closes, with
  // `inline`). Bounded: a connection still busy must not keep `npm start` from exiting (the
  // lines on standard output are the record).
  const closing = (async () => {
    await api?.close();
    if (api) await (await import('../lib/handlers/runtime.ts')).drainAuditCopy();
    await Promise.all([db?.close(), devIssuer?.close()]);
  })();
  await Promise.race([closing, new Promise((r) => setTimeout(r, 2000))]);
  process.exit(code);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());

try {
  // Before the store opens: every file it creates, now or later, is then owner-only.
  keepLocalDataPrivate(dataDir);
  [db, devIssuer] = await Promise.all([
    startDynalite({ path: `${dataDir}/dynamodb`, port: Number(process.env.FEDBROKER_DYNAMODB_PORT ?? 0) }),
    startDevIssuer(Number(process.env.FEDBROKER_DEV_ISSUER_PORT ?? port + 2)),
  ]);
  process.env.AWS_ENDPOINT_URL_DYNAMODB = db.endpoint;

  const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
  const { Table } = await import('../lib/aws/dynamo-table.ts');
  const { DynamoTrustStore } = await import('../lib/aws/dynamo-trust-store.ts');
  const { createTableFromServerlessYml } = await import('../lib/local/table.ts');
  const { seedDevTenant } = await import('../lib/local/seed.ts');
  const { routesFromServerlessYml } = await import('../lib/local/http-api-routes.ts');
  const { startHttpApi } = await import('../lib/local/http-api.ts');

  const dynamodb = new DynamoDBClient({ region, endpoint: db.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  await createTableFromServerlessYml(dynamodb, tableName, `${root}/serverless.yml`);
  await seedDevTenant(new DynamoTrustStore(new Table(tableName, dynamodb)), devIssuer.issuer, COGNITO_ISSUER_DEFAULT);
  dynamodb.destroy();

  api = await startHttpApi({ routes: routesFromServerlessYml(`${root}/serverless.yml`, 'local'), root, port, host: '127.0.0.1', region });
  // Every handler module now, like warm containers: the first request does not pay for imports.
  await api.preload();

  // What operator commands need, for `fedbroker admin …` to find this run with no variables set.
  const recorded = writeLocalRun(dataDir, {
    pid: process.pid,
    endpoint,
    issuer,
    dev_issuer: devIssuer.issuer,
    environment: {
      AWS_REGION: region,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_ENDPOINT_URL_DYNAMODB: db.endpoint,
      FEDBROKER_LOCAL: 'true',
      FEDBROKER_SIGNER: 'local',
      FEDBROKER_TABLE: tableName,
      FEDBROKER_ISSUER: issuer,
      FEDBROKER_DATA_DIR: dataDir,
      FEDBROKER_AUDIT_TABLE_WRITE: process.env.FEDBROKER_AUDIT_TABLE_WRITE as 'subscription' | 'inline' | 'file',
    },
  });

  console.log(`fedbroker is running (local mode, data in ${dataDir})`);
  console.log(`issuer: ${issuer}`);
  console.log(`dev issuer (DEV ONLY, trusted by tenant "dev" for subjects dev:*): ${devIssuer.issuer}`);
  console.log(`endpoint: ${endpoint} (the CLI's default while this runs)`);
  console.log(`table:  ${tableName} on DynamoDB endpoint ${db.endpoint} (region ${region})`);
  console.log(`operator commands (fedbroker admin …) read both from ${recorded}; no variables needed`);
  console.log(`try:    curl -s ${issuer}/.well-known/openid-configuration && curl -s ${issuer}/.well-known/jwks.json`);
} catch (e) {
  console.error(`fedbroker did not start: ${e instanceof Error ? e.message : String(e)}`);
  await stop(1);
}

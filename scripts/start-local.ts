// `npm start`: the whole broker on this machine, on embedded defaults.
// dynalite (in-process, data under .fedbroker/) stands in for DynamoDB, a key file for KMS, and
// serverless-offline serves the routes declared in serverless.yml through the same handlers.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Table } from '../lib/aws/dynamo-table.ts';
import { DynamoTrustStore } from '../lib/aws/dynamo-trust-store.ts';
import { startDevIssuer } from '../lib/local/dev-issuer.ts';
import { startDynalite } from '../lib/local/dynalite.ts';
import { seedDevTenant } from '../lib/local/seed.ts';
import { createTableFromServerlessYml } from '../lib/local/table.ts';

const port = Number(process.env.PORT ?? process.env.FEDBROKER_PORT ?? 8787);
const dataDir = resolve(process.env.FEDBROKER_DATA_DIR ?? '.fedbroker');
const issuer = process.env.FEDBROKER_ISSUER ?? `http://localhost:${port}`;
const tableName = 'fedbroker-local';

const db = await startDynalite({ path: `${dataDir}/dynamodb`, port: Number(process.env.FEDBROKER_DYNAMODB_PORT ?? 0) });
const awsEnv = {
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
  AWS_ENDPOINT_URL_DYNAMODB: db.endpoint,
};
const dynamodb = new DynamoDBClient({ region: awsEnv.AWS_REGION, endpoint: db.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
await createTableFromServerlessYml(dynamodb, tableName);
const devIssuer = await startDevIssuer(Number(process.env.FEDBROKER_DEV_ISSUER_PORT ?? port + 2));
await seedDevTenant(new DynamoTrustStore(new Table(tableName, dynamodb)), devIssuer.issuer, 'https://cognito-identity.amazonaws.com');

const env = {
  ...process.env,
  ...awsEnv,
  FEDBROKER_LOCAL: 'true',
  FEDBROKER_SIGNER: 'local',
  FEDBROKER_ISSUER: issuer,
  FEDBROKER_TABLE: tableName,
  FEDBROKER_DATA_DIR: dataDir,
  SLS_TELEMETRY_DISABLED: '1',
  SLS_NOTIFICATIONS_MODE: 'off',
  POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
};

const serverlessBin = createRequire(import.meta.url).resolve('serverless/bin/serverless.js');
const child = spawn(
  process.execPath,
  [serverlessBin, 'offline', 'start', '--stage', 'local', '--httpPort', String(port), '--lambdaPort', String(process.env.FEDBROKER_LAMBDA_PORT ?? port + 1), '--host', '127.0.0.1', '--noPrependStageInUrl'],
  { env, stdio: ['ignore', 'pipe', 'inherit'] },
);
child.stdout.on('data', (chunk: Buffer) => {
  if (process.env.FEDBROKER_VERBOSE) process.stdout.write(chunk);
});

async function ready(): Promise<boolean> {
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) return false;
    try {
      const res = await fetch(`http://127.0.0.1:${port}/.well-known/openid-configuration`);
      if (res.ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

const stop = async (code = 0) => {
  child.kill('SIGTERM');
  await Promise.all([db.close(), devIssuer.close()]);
  process.exit(code);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
child.on('exit', (code) => void stop(code ?? 1));

if (await ready()) {
  console.log(`fedbroker is running (local mode, data in ${dataDir})`);
  console.log(`issuer: ${issuer}`);
  console.log(`dev issuer (DEV ONLY, trusted by tenant "dev" for subjects dev:*): ${devIssuer.issuer}`);
  console.log(`try:    curl -s ${issuer}/.well-known/openid-configuration && curl -s ${issuer}/.well-known/jwks.json`);
} else {
  console.error('fedbroker did not start; run with FEDBROKER_VERBOSE=1 for serverless-offline output');
  await stop(1);
}

// Starts the real parts a broker needs in a test process: dynalite for DynamoDB and the KMS
// stand-in, wired in through the SDK's standard endpoint variables, then loads the handlers fresh.
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { vi } from 'vitest';
import { startDynalite } from '../../lib/local/dynalite.ts';
import { createTableFromServerlessYml } from '../../lib/local/table.ts';
import { startKmsStandIn, type KmsStandIn } from './kms-stand-in.ts';

export interface TestBroker {
  kms: KmsStandIn;
  dynamodb: { endpoint: string; close(): Promise<void> };
  tableName: string;
  env: Record<string, string>;
  /** Imports a module of the broker (e.g. `functions/jwks.ts`) in the current module graph. */
  load<T>(module: string): Promise<T>;
  /** Starts a new module graph (cold start) with `env` changes applied. */
  coldStart(env?: Record<string, string>): void;
  close(): Promise<void>;
}

export async function startBroker(
  options: { signer?: 'kms' | 'kms-data-key' | 'local'; alg?: 'RS256' | 'ES256'; env?: Record<string, string> } = {},
): Promise<TestBroker> {
  const alg = options.alg ?? 'RS256';
  const [dynamodb, kms] = await Promise.all([startDynalite(), startKmsStandIn()]);
  const tableName = `fedbroker-test-${randomUUID().slice(0, 8)}`;
  const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
  await createTableFromServerlessYml(new DynamoDBClient({ region: 'us-east-1', endpoint: dynamodb.endpoint, credentials }), tableName);
  const key =
    options.signer === 'local'
      ? undefined
      : await kms.createKey(options.signer === 'kms-data-key' ? 'SYMMETRIC_DEFAULT' : alg === 'ES256' ? 'ECC_NIST_P256' : 'RSA_2048');
  const env: Record<string, string> = {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_ENDPOINT_URL_DYNAMODB: dynamodb.endpoint,
    AWS_ENDPOINT_URL_KMS: kms.url,
    FEDBROKER_TABLE: tableName,
    FEDBROKER_ISSUER: 'https://issuer.fedbroker.test',
    FEDBROKER_SIGNING_ALG: alg,
    // The broker stands in for a whole deployment, log subscription included: audit lines are
    // copied to the table in-process. test/integration/audit.test.ts runs the deployed path.
    FEDBROKER_AUDIT_TABLE_WRITE: 'inline',
    ...(options.signer === 'local'
      ? { FEDBROKER_SIGNER: 'local', FEDBROKER_LOCAL: 'true', FEDBROKER_DATA_DIR: mkdtempSync(join(tmpdir(), 'fedbroker-')) }
      : options.signer === 'kms-data-key'
        ? { FEDBROKER_SIGNER: 'kms-data-key', FEDBROKER_KMS_WRAPPING_KEY_ID: key?.Arn ?? '' }
        : { FEDBROKER_SIGNER: 'kms', FEDBROKER_KMS_KEY_ID: key?.Arn ?? '' }),
    ...(options.env ?? {}),
  };
  const saved = { ...process.env };
  const broker: TestBroker = {
    kms,
    dynamodb,
    tableName,
    env,
    load: <T>(module: string) => import(/* @vite-ignore */ join(process.cwd(), module)) as Promise<T>,
    coldStart(extra = {}) {
      Object.assign(env, extra);
      Object.assign(process.env, env);
      vi.resetModules();
    },
    async close() {
      process.env = saved;
      await Promise.all([dynamodb.close(), kms.close()]);
    },
  };
  broker.coldStart();
  return broker;
}

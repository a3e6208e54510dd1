// A key ring over a fresh table on the test broker's dynalite, signing with a fresh key in its KMS
// stand-in: what tests of access-token verification need (test/integration/tokens/, auth/).
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { DynamoKeyStore } from '../../lib/aws/dynamo-key-store.ts';
import { Table } from '../../lib/aws/dynamo-table.ts';
import { KmsSigner } from '../../lib/aws/kms-signer.ts';
import type { Clock } from '../../lib/clock.ts';
import { KeyRing } from '../../lib/keys/keyring.ts';
import { createTableFromServerlessYml } from '../../lib/local/table.ts';
import type { TestBroker } from './broker.ts';

export const TEST_ISSUER = 'https://issuer.fedbroker.test';

/** The principal of the access tokens these tests mint. */
export const testPrincipal = {
  tenant: 'acme',
  sub: 'acme/ci/repo:acme/app',
  trust: 'ci',
  generation: 'g1',
  scopes: ['id-token:issue' as const],
  tags: undefined,
};

/** A table and an RS256 KMS key of their own; `ring()` makes another key ring over the same registry (another container). */
export async function kmsKeyRing(broker: TestBroker, clock: Clock, prefix: string) {
  const bootstrap = await broker.kms.createKey('RSA_2048');
  const tableName = `${prefix}-${Math.random().toString(36).slice(2, 10)}`;
  await createTableFromServerlessYml(new DynamoDBClient({}), tableName);
  const table = new Table(tableName);
  const store = new DynamoKeyStore(table);
  const signer = new KmsSigner(new KMSClient({}), {
    keyId: bootstrap.Arn,
    alg: 'RS256',
    deletionWindowDays: 30,
    managedTag: 'fedbroker-test',
  });
  const ring = () => new KeyRing({ store, signer, clock, config: { keyCacheSeconds: 60 } });
  return { table, store, signer, ring };
}

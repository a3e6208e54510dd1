// Threat model I1: versions never repeat for an id, across delete and recreate, also for documents
// written before the per-id version counter existed (second adversarial review: such a document,
// deleted, restarted its id at version 1, so an old If-Match matched the new document).
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Table } from '../../lib/aws/dynamo-table.ts';
import { tenantPk, tombstonePk } from '../../lib/aws/dynamo-trust-store.ts';
import { systemClock } from '../../lib/clock.ts';
import { relationships, type AdminDeps } from '../../lib/app/documents.ts';
import { ciRelationship, startExchangeEnv, type ExchangeEnv } from '../support/security-env.ts';

let env: ExchangeEnv;
let deps: AdminDeps;
let table: Table;
const issuer = 'http://127.0.0.1:1/legacy';

beforeAll(async () => {
  env = await startExchangeEnv();
  await env.admin.tenant('acme');
  table = new Table(env.broker.tableName);
  deps = { store: env.admin.store, clock: systemClock, local: true, cognitoIssuer: 'https://cognito-identity.amazonaws.com' };
});
afterAll(async () => {
  await env?.close();
});

describe('versions of ids that predate the version counter', () => {
  it('a document written before the counter (version 5), deleted now, is recreated above 5', async () => {
    const legacy = await relationships.create(deps, 'acme', ciRelationship(issuer, { id: 'legacy' }));
    // As the previous release left it: version 5, no counter item.
    const { DeleteCommand } = await import('@aws-sdk/lib-dynamodb');
    await table.doc.send(new DeleteCommand({ TableName: table.name, Key: { pk: tombstonePk('acme'), sk: 'TRUST#legacy' } }));
    await table.doc.send(
      new PutCommand({ TableName: table.name, Item: { pk: tenantPk('acme'), sk: 'TRUST#legacy', ...legacy, version: 5 } }),
    );
    await relationships.remove(deps, 'acme', 'legacy', 5);
    const recreated = await relationships.create(deps, 'acme', ciRelationship(issuer, { id: 'legacy' }));
    expect(recreated.version).toBeGreaterThan(5);
  });
});

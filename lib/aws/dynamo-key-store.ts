import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { KeyRecord, KeyStore } from '../keys/ports.ts';
import type { Table } from './dynamo-table.ts';

const PK = 'KEY';
const ACTIVE = 'ACTIVE';
const LEASE = 'ROTATION_LEASE';

/**
 * Key registry in the single table: `KEY / KEY#<kid>` records, the `KEY / ACTIVE` pointer (the
 * single item whose conditional update keeps exactly one key active) and the rotation lease.
 */
export class DynamoKeyStore implements KeyStore {
  readonly #table: Table;
  constructor(table: Table) {
    this.#table = table;
  }

  async readRegistry() {
    const items = await this.#table.readPartition(PK);
    const pointer = items.find((i) => i.sk === ACTIVE);
    const keys = items.filter((i) => typeof i.sk === 'string' && i.sk.startsWith('KEY#')).map(toRecord);
    return {
      keys,
      active: pointer ? { kid: String(pointer.kid), version: Number(pointer.version) } : undefined,
    };
  }

  createKey(record: KeyRecord) {
    const t = this.#table;
    return t.conditional(() =>
      t.doc.send(
        new PutCommand({
          TableName: t.name,
          Item: { pk: PK, sk: `KEY#${record.kid}`, ...record },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
  }

  updateKey(record: KeyRecord, expectedVersion: number) {
    const t = this.#table;
    return t.conditional(() =>
      t.doc.send(
        new PutCommand({
          TableName: t.name,
          Item: { pk: PK, sk: `KEY#${record.kid}`, ...record },
          ConditionExpression: 'version = :v',
          ExpressionAttributeValues: { ':v': expectedVersion },
        }),
      ),
    );
  }

  async deleteKey(kid: string) {
    const t = this.#table;
    await t.run(() => t.doc.send(new DeleteCommand({ TableName: t.name, Key: { pk: PK, sk: `KEY#${kid}` } })));
  }

  setActivePointer(kid: string, expectedVersion: number | undefined) {
    const t = this.#table;
    return t.conditional(() =>
      t.doc.send(
        new PutCommand({
          TableName: t.name,
          Item: { pk: PK, sk: ACTIVE, kid, version: (expectedVersion ?? 0) + 1 },
          ...(expectedVersion === undefined
            ? { ConditionExpression: 'attribute_not_exists(pk)' }
            : { ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': expectedVersion } }),
        }),
      ),
    );
  }

  acquireRotationLease(owner: string, nowSeconds: number, untilSeconds: number) {
    const t = this.#table;
    // Expiry is checked here, not by TTL: DynamoDB deletes expired items late, dynalite never.
    return t.conditional(() =>
      t.doc.send(
        new PutCommand({
          TableName: t.name,
          Item: { pk: PK, sk: LEASE, owner, expires_at: untilSeconds },
          ConditionExpression: 'attribute_not_exists(pk) OR expires_at < :now',
          ExpressionAttributeValues: { ':now': nowSeconds },
        }),
      ),
    );
  }

  async releaseRotationLease(owner: string) {
    const t = this.#table;
    await t.conditional(() =>
      t.doc.send(
        new DeleteCommand({
          TableName: t.name,
          Key: { pk: PK, sk: LEASE },
          ConditionExpression: '#o = :o',
          ExpressionAttributeNames: { '#o': 'owner' },
          ExpressionAttributeValues: { ':o': owner },
        }),
      ),
    );
  }
}

function toRecord(item: Record<string, unknown>): KeyRecord {
  const { pk: _pk, sk: _sk, ...rest } = item;
  return rest as unknown as KeyRecord;
}

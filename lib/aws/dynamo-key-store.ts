import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { KeyRecord, KeyStore } from '../keys/ports.ts';
import type { Table } from './dynamo-table.ts';

const PK = 'KEY';
const ACTIVE = 'ACTIVE';

/** Key registry in the single table: `KEY / KEY#<kid>` records and the `KEY / ACTIVE` pointer. */
export class DynamoKeyStore implements KeyStore {
  readonly #table: Table;
  constructor(table: Table) {
    this.#table = table;
  }

  async readRegistry() {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.#table.run(() =>
        this.#table.doc.send(
          new QueryCommand({
            TableName: this.#table.name,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': PK },
            ConsistentRead: true,
            ExclusiveStartKey: start,
          }),
        ),
      );
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    const pointer = items.find((i) => i.sk === ACTIVE);
    const keys = items.filter((i) => typeof i.sk === 'string' && i.sk.startsWith('KEY#')).map(toRecord);
    return {
      keys,
      active: pointer ? { kid: String(pointer.kid), version: Number(pointer.version) } : undefined,
    };
  }

  createKey(record: KeyRecord) {
    return this.#table.conditional(() =>
      this.#table.doc.send(
        new PutCommand({
          TableName: this.#table.name,
          Item: { pk: PK, sk: `KEY#${record.kid}`, ...record },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
  }

  setActivePointer(kid: string, expectedVersion: number | undefined) {
    return this.#table.conditional(() =>
      this.#table.doc.send(
        new PutCommand({
          TableName: this.#table.name,
          Item: { pk: PK, sk: ACTIVE, kid, version: (expectedVersion ?? 0) + 1 },
          ...(expectedVersion === undefined
            ? { ConditionExpression: 'attribute_not_exists(pk)' }
            : { ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': expectedVersion } }),
        }),
      ),
    );
  }
}

function toRecord(item: Record<string, unknown>): KeyRecord {
  const { pk: _pk, sk: _sk, ...rest } = item;
  return rest as unknown as KeyRecord;
}

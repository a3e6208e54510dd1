import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { NonceStore } from '../x509/session.ts';
import type { Table } from './dynamo-table.ts';

/**
 * Replay refusal for certificate requests (threat model I9): one conditional PutItem per nonce in
 * the `NONCE#` partition family. The condition admits a write only where no unexpired claim holds
 * the nonce, so the expiry is checked by the write itself (DynamoDB's TTL deletes late, dynalite
 * never). `expires_at` is also the table's TTL attribute, which tidies up eventually.
 */
export class DynamoNonceStore implements NonceStore {
  readonly #table: Table;
  constructor(table: Table) {
    this.#table = table;
  }
  claim(nonce: string, expiresAt: number, now: number): Promise<boolean> {
    return this.#table.conditional(() =>
      this.#table.doc.send(
        new PutCommand({
          TableName: this.#table.name,
          Item: { pk: `NONCE#${nonce}`, sk: 'NONCE', expires_at: expiresAt },
          ConditionExpression: 'attribute_not_exists(pk) OR expires_at < :now',
          ExpressionAttributeValues: { ':now': now },
        }),
      ),
    );
  }
}

import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Revocation, RevocationStore } from '../revocation/ports.ts';
import type { Table } from './dynamo-table.ts';

const key = (jti: string) => ({ pk: `REVOKED#${jti}`, sk: 'REVOKED' });

/** The access-token deny list in the single table: `REVOKED#<jti> / REVOKED`, TTL `expires_at`. */
export class DynamoRevocationStore implements RevocationStore {
  readonly #table: Table;
  constructor(table: Table) {
    this.#table = table;
  }

  async isRevoked(jti: string, tenant: string, atSeconds: number): Promise<boolean> {
    const t = this.#table;
    // Strongly consistent: a revocation must hold from the moment its write was acknowledged,
    // not after replication catches up (an eventually consistent read could still miss it).
    const out = await t.run(() => t.doc.send(new GetCommand({ TableName: t.name, Key: key(jti), ConsistentRead: true })));
    const item = out.Item;
    return item !== undefined && item.tenant === tenant && typeof item.expires_at === 'number' && item.expires_at >= atSeconds;
  }

  async revoke(entry: Revocation, options: { proven: boolean }): Promise<'revoked' | 'held_by_another_tenant'> {
    const t = this.#table;
    const condition = options.proven
      ? 'attribute_not_exists(pk) OR tenant <> :t OR expires_at < :exp'
      : 'attribute_not_exists(pk) OR (tenant = :t AND expires_at < :exp)';
    for (let attempt = 0; attempt < 2; attempt++) {
      const written = await t.conditional(() =>
        t.doc.send(
          new PutCommand({
            TableName: t.name,
            Item: { ...key(entry.jti), tenant: entry.tenant, expires_at: entry.exp },
            ConditionExpression: condition,
            ExpressionAttributeValues: { ':t': entry.tenant, ':exp': entry.exp },
          }),
        ),
      );
      if (written) return 'revoked';
      // The condition failed on an existing entry: ours already (at least as long), or another
      // tenant's. If it vanished meanwhile (TTL), write again.
      const out = await t.run(() => t.doc.send(new GetCommand({ TableName: t.name, Key: key(entry.jti), ConsistentRead: true })));
      if (out.Item) return out.Item.tenant === entry.tenant ? 'revoked' : 'held_by_another_tenant';
    }
    return 'revoked';
  }
}

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { InternalError } from '../errors.ts';
import { describeError, logger } from '../log.ts';
import { SDK_DEFAULTS, isTransient, unavailable } from './errors.ts';

/**
 * The single table's document client plus the error translation every repository shares.
 * Items are addressed by `pk`/`sk`; `expires_at` is the TTL attribute, which code also checks
 * on read because DynamoDB deletes expired items only eventually (and dynalite never does).
 */
export class Table {
  readonly doc: DynamoDBDocumentClient;
  readonly name: string;
  constructor(name: string, client: DynamoDBClient = new DynamoDBClient(SDK_DEFAULTS)) {
    this.name = name;
    // convertClassInstanceToMap: util-dynamodb tells a plain object from a class instance by its
    // `constructor` (`.name === 'Object'`), so a JSON object with a member named "constructor" (a
    // claim in conditions, a session tag key) was refused as unsupported, a 500 for a valid document.
    // Everything written here is JSON (documents, audit records), so every object is a map.
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: true } });
  }

  /** Runs a call; a failed condition resolves `false`, outages become 503s. */
  async conditional(fn: () => Promise<unknown>): Promise<boolean> {
    try {
      await fn();
      return true;
    } catch (e) {
      if (e instanceof Error && e.name === 'ConditionalCheckFailedException') return false;
      throw translate(e);
    }
  }

  /** Every item of one partition (or of its sort keys starting with `skPrefix`), strongly consistent, following pagination. */
  async readPartition(pk: string, skPrefix?: string): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.run(() =>
        this.doc.send(
          new QueryCommand({
            TableName: this.name,
            KeyConditionExpression: skPrefix === undefined ? 'pk = :pk' : 'pk = :pk AND begins_with(sk, :prefix)',
            ExpressionAttributeValues: { ':pk': pk, ...(skPrefix === undefined ? {} : { ':prefix': skPrefix }) },
            ConsistentRead: true,
            ExclusiveStartKey: start,
          }),
        ),
      );
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    return items;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw translate(e);
    }
  }
}

function translate(e: unknown): Error {
  if (isTransient(e)) return unavailable('DynamoDB', e);
  // ResourceNotFound (no table), AccessDenied, ValidationException: a deployment fault.
  logger.error('DynamoDB request failed', { error: describeError(e) });
  return new InternalError('storage request failed', { cause: e });
}

import { readFileSync } from 'node:fs';
import { CreateTableCommand, type CreateTableCommandInput, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { parse } from 'yaml';

/**
 * Creates the single table for the local run and the tests from the one definition in
 * `serverless.yml`, so the schema is never declared twice. Only the parts a DynamoDB-compatible
 * emulator understands are sent (TTL and PITR are deployment settings).
 */
export async function createTableFromServerlessYml(client: DynamoDBClient, tableName: string, ymlPath = 'serverless.yml'): Promise<void> {
  const doc = parse(readFileSync(ymlPath, 'utf8'), { logLevel: 'silent' }) as {
    resources: { Resources: { Table: { Properties: CreateTableCommandInput } } };
  };
  const p = doc.resources.Resources.Table.Properties;
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: p.BillingMode,
        AttributeDefinitions: p.AttributeDefinitions,
        KeySchema: p.KeySchema,
        GlobalSecondaryIndexes: p.GlobalSecondaryIndexes,
      }),
    );
  } catch (e) {
    if (!(e instanceof Error && e.name === 'ResourceInUseException')) throw e;
  }
}

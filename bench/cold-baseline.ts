// The cold-start baseline of `npm run bench` (bench/cold.ts): nothing of fedbroker, only what a
// function doing fedbroker's work must load and call. It imports the same AWS SDK clients
// (DynamoDB with the document client, KMS) and jose, and on its first request makes the first
// calls a function makes, raw, each as early as its inputs allow:
// - by default, the token function's essential ones (the definition): one DynamoDB Query
//   of the key registry partition (which names the KMS key), then one KMS GetPublicKey and one
//   KMS Sign of a JWT's signing input, the signature checked against the public key with jose;
// - given `event.calls` (what bench/cold.ts counted at the wire for one function's first request,
//   e.g. `{ "Query KEY": 1, "Query TENANT": 1, "GetPublicKey": 2, "Sign": 1 }`), exactly those: every
//   DynamoDB call at once, then every KMS call at once (the registry names the key); KMS calls other
//   than GetPublicKey, Sign and CreateKey are made as a DescribeKey (one round trip, no side effect).
// bench/cold.ts bundles it with the same esbuild options as the functions and runs it in the
// same round-robin, so fedbroker's cold start is reported as a ratio to it.
import { createPublicKey } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { CreateKeyCommand, DescribeKeyCommand, GetPublicKeyCommand, KMSClient, SignCommand } from '@aws-sdk/client-kms';
import { base64url, compactVerify } from 'jose';

// The SDK settings fedbroker's clients use (lib/aws/errors.ts), written out: no fedbroker import.
const sdk = { maxAttempts: 2, requestHandler: { connectionTimeout: 1000, requestTimeout: 3000, throwOnRequestTimeout: true } } as const;
const doc = DynamoDBDocumentClient.from(new DynamoDBClient(sdk));
const kms = new KMSClient(sdk);

/** The token function's essential first calls (the default). */
const ESSENTIAL: Record<string, number> = { 'Query KEY': 1, GetPublicKey: 1, Sign: 1 };
/** Where the raw calls point: the partitions the function read (`KEY`, `TENANT#bench`, …); writes go to a scratch partition. */
const PARTITION: Record<string, string> = {
  KEY: 'KEY',
  TENANT: 'TENANT#bench',
  AUDIT: `AUDIT#bench#${new Date().toISOString().slice(0, 10)}`,
};
const SCRATCH = 'BENCH#baseline';

function dynamoCall(table: string, op: string, kind: string): Promise<{ Items?: Record<string, unknown>[] } | object> {
  const pk = PARTITION[kind] ?? SCRATCH;
  switch (op) {
    case 'Query':
      return doc.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': pk },
          ConsistentRead: true,
        }),
      );
    case 'GetItem':
      return doc.send(new GetCommand({ TableName: table, Key: { pk, sk: 'META' }, ConsistentRead: true }));
    case 'PutItem':
      return doc.send(new PutCommand({ TableName: table, Item: { pk: SCRATCH, sk: 'put', at: Date.now() } }));
    case 'DeleteItem':
      return doc.send(new DeleteCommand({ TableName: table, Key: { pk: SCRATCH, sk: 'put' } }));
    case 'BatchWriteItem':
      return doc.send(
        new BatchWriteCommand({ RequestItems: { [table]: [{ PutRequest: { Item: { pk: SCRATCH, sk: 'batch', at: Date.now() } } }] } }),
      );
    default:
      throw new Error(`the baseline does not know how to make a DynamoDB ${op}`);
  }
}

export async function handler(event: { calls?: Record<string, number> } = {}): Promise<{ statusCode: number; body: string }> {
  const table = process.env.FEDBROKER_TABLE ?? '';
  const calls = Object.entries(event.calls ?? ESSENTIAL).flatMap(([label, n]) => Array.from({ length: n }, () => label));
  // As bench/cold.ts names them: `DynamoDB Query KEY`, `KMS Sign` (the defaults use the short form).
  const isKms = (c: string) => c.startsWith('KMS ') || c === 'GetPublicKey' || c === 'Sign';
  const dynamo = calls.filter((c) => !isKms(c)).map((c) => c.replace(/^DynamoDB /, '').split(' ') as [string, string?]);
  const kmsOps = calls.filter(isKms).map((c) => c.replace(/^KMS /, ''));
  const results = await Promise.all(dynamo.map(([op, kind]) => dynamoCall(table, op, kind ?? '')));
  const registry = results.find((_r, i) => dynamo[i]![0] === 'Query' && dynamo[i]![1] === 'KEY');
  const key = (registry as { Items?: Record<string, unknown>[] } | undefined)?.Items?.find(
    (i) => typeof i.sk === 'string' && i.sk.startsWith('KEY#'),
  );
  const keyId = String(key?.keyRef ?? process.env.FEDBROKER_KMS_KEY_ID ?? '');
  const iat = Math.floor(Date.now() / 1000);
  const encode = (x: unknown) => base64url.encode(JSON.stringify(x));
  const header = encode({ alg: 'RS256', kid: String(key?.kid ?? 'baseline'), typ: 'JWT' });
  const payload = encode({ iss: 'https://issuer.fedbroker.bench', sub: 'bench', aud: 'sts.amazonaws.com', iat, exp: iat + 900 });
  const input = `${header}.${payload}`;
  const publicKeys = kmsOps.filter((op) => op === 'GetPublicKey').map(() => kms.send(new GetPublicKeyCommand({ KeyId: keyId })));
  const signatures = kmsOps
    .filter((op) => op === 'Sign')
    .map(() =>
      kms.send(
        new SignCommand({
          KeyId: keyId,
          Message: new TextEncoder().encode(input),
          MessageType: 'RAW',
          SigningAlgorithm: 'RSASSA_PKCS1_V1_5_SHA_256',
        }),
      ),
    );
  // Other KMS calls (the rotation function's): CreateKey for real, anything else (tagging,
  // scheduling a deletion) as a DescribeKey of the same key: one round trip, without its effect.
  const others = kmsOps
    .filter((op) => op !== 'GetPublicKey' && op !== 'Sign')
    .map((op) =>
      op === 'CreateKey'
        ? kms.send(new CreateKeyCommand({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' }))
        : kms.send(new DescribeKeyCommand({ KeyId: keyId })),
    );
  await Promise.all(others);
  const [pubs, signed] = await Promise.all([Promise.all(publicKeys), Promise.all(signatures)]);
  const pub = pubs[0];
  const signature = signed[0]?.Signature;
  // A signed token is checked as fedbroker checks what KMS returns; without a Sign there is nothing to check.
  if (signature && pub?.PublicKey) {
    const token = `${input}.${base64url.encode(signature)}`;
    await compactVerify(token, createPublicKey({ key: Buffer.from(pub.PublicKey), format: 'der', type: 'spki' }));
    return { statusCode: 200, body: JSON.stringify({ access_token: token }) };
  }
  return { statusCode: 200, body: JSON.stringify({ calls: calls.length }) };
}

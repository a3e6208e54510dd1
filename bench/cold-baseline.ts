// The cold-start baseline of `npm run bench` (bench/cold.ts): nothing of fedbroker, only what any
// function doing the token function's work must load and call. It imports the same AWS SDK
// clients (DynamoDB with the document client, KMS) and jose, and on its first request makes the
// same first calls raw: one DynamoDB Query of the key registry partition (which names the KMS
// key), then one KMS GetPublicKey and one KMS Sign of a JWT's signing input, the signature checked
// against the public key with jose.
// bench/cold.ts bundles it with the same esbuild options as the functions and runs it in the
// same round-robin, so fedbroker's cold start is reported as a ratio to it.
import { createPublicKey } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { GetPublicKeyCommand, KMSClient, SignCommand } from '@aws-sdk/client-kms';
import { base64url, compactVerify } from 'jose';

// The SDK settings fedbroker's clients use (lib/aws/errors.ts), written out: no fedbroker import.
const sdk = { maxAttempts: 2, requestHandler: { connectionTimeout: 1000, requestTimeout: 3000, throwOnRequestTimeout: true } } as const;
const doc = DynamoDBDocumentClient.from(new DynamoDBClient(sdk));
const kms = new KMSClient(sdk);

export async function handler(): Promise<{ statusCode: number; body: string }> {
  const table = process.env.FEDBROKER_TABLE ?? '';
  // The calls' own order of dependence: the registry names the key; its public half (to check
  // the signature) and the signature itself are independent of each other.
  const registry = await doc.send(
    new QueryCommand({
      TableName: table,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': 'KEY' },
      ConsistentRead: true,
    }),
  );
  const key = registry.Items?.find((i) => typeof i.sk === 'string' && i.sk.startsWith('KEY#'));
  const keyId = String(key?.keyRef ?? process.env.FEDBROKER_KMS_KEY_ID ?? '');
  const iat = Math.floor(Date.now() / 1000);
  const encode = (x: unknown) => base64url.encode(JSON.stringify(x));
  const header = encode({ alg: 'RS256', kid: String(key?.kid ?? 'baseline'), typ: 'JWT' });
  const payload = encode({ iss: 'https://issuer.fedbroker.bench', sub: 'bench', aud: 'sts.amazonaws.com', iat, exp: iat + 900 });
  const input = `${header}.${payload}`;
  const [pub, signed] = await Promise.all([
    kms.send(new GetPublicKeyCommand({ KeyId: keyId })),
    kms.send(
      new SignCommand({
        KeyId: keyId,
        Message: new TextEncoder().encode(input),
        MessageType: 'RAW',
        SigningAlgorithm: 'RSASSA_PKCS1_V1_5_SHA_256',
      }),
    ),
  ]);
  if (!pub.PublicKey || !signed.Signature) throw new Error('KMS returned no public key or no signature');
  const token = `${input}.${base64url.encode(signed.Signature)}`;
  await compactVerify(token, createPublicKey({ key: Buffer.from(pub.PublicKey), format: 'der', type: 'spki' }));
  return { statusCode: 200, body: JSON.stringify({ access_token: token }) };
}

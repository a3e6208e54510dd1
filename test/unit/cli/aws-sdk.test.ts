import { createServer, type Server } from 'node:net';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AWS_CLIENT_DEFAULTS, awsFailure } from '../../../cli/aws-sdk.ts';

// An endpoint that accepts the connection, reads the request and never answers.
let server: Server;
let endpoint: string;
let held = 0;
beforeAll(async () => {
  server = createServer((socket) => {
    held += 1;
    socket.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('AWS client settings of the CLI', () => {
  it('fail an attempt whose answer never comes, as a network error, instead of waiting forever', async () => {
    // The CLI's own settings, with a short request timeout and one attempt so the test is quick;
    // without throwOnRequestTimeout the call would hang here until the test times out.
    const client = new STSClient({
      ...AWS_CLIENT_DEFAULTS,
      maxAttempts: 1,
      requestHandler: { ...AWS_CLIENT_DEFAULTS.requestHandler, requestTimeout: 300 },
      endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'example' },
    });
    const error = await client.send(new GetCallerIdentityCommand({})).then(
      () => undefined,
      (e: unknown) => e,
    );
    client.destroy();
    expect(held).toBe(1);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).toBe('TimeoutError');
    expect(awsFailure(error, 'STS GetCallerIdentity')).toMatchObject({
      error: 'network_error',
      message: 'STS GetCallerIdentity: cannot reach AWS (ETIMEDOUT)',
    });
  }, 10_000);
});
